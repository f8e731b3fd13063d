"""The embedded-model demo: SmolLM2-135M-Instruct forgets Harry Potter (the copyright
application of the survey), on a CPU, with the evidence printed and saved."""
from obliviate.demo.runner import DemoSettings, run_demo

__all__ = ["DemoSettings", "run_demo"]
