"""Fictitious people for the offline ``synthetic`` benchmark, in the spirit of TOFU's fictitious
authors (Maini et al., 2024, https://arxiv.org/abs/2401.06121).

Everything comes from one ``random.Random(seed)``: the same (n, seed) gives the same people.
Names are built from syllables; e-mail domains use the reserved ``.example`` top-level domain
and phone numbers the unassigned ``+99`` country code, so no record points at a real person.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

FIRST_SYLLABLES = ["ka", "lo", "mi", "ra", "ve", "sto", "an", "el", "dri", "no", "sa", "ti",
                   "bel", "mar", "zu", "fen", "or", "ly", "da", "qui", "ren", "ho", "ja", "pe"]
LAST_SYLLABLES = ["vor", "lin", "dak", "sel", "mor", "tov", "ran", "quist", "bel", "hard", "ez",
                  "ov", "ski", "ward", "ten", "gal", "mir", "os", "ber", "un", "cas", "dre"]
REAL_CITIES = ["Lisbon", "Nairobi", "Osaka", "Quito", "Tallinn", "Hanoi", "Perth", "Reykjavik",
               "Tbilisi", "Montevideo", "Krakow", "Accra", "Kyoto", "Dakar", "Valparaiso"]
FICTITIOUS_PLACES = ["Brenmoor", "Quillhaven", "Ostravel", "Marrowdale", "Tessaly Point",
                     "Vantrel", "Eldenport", "Carrow Fen", "Saltmere", "Hollin Cross"]
PLACES = REAL_CITIES + FICTITIOUS_PLACES
PROFESSIONS = ["marine biologist", "cartographer", "violin maker", "civil engineer",
               "pastry chef", "radio journalist", "botanist", "locksmith", "architect",
               "translator", "glassblower", "veterinarian", "archivist", "airline pilot",
               "geologist", "bookbinder", "beekeeper", "stage designer"]
AWARDS = ["the Halvorsen Prize for Fiction", "the Amber Quill Award", "the Meridian Medal",
          "the Lantern Circle Prize", "the Orvell Award for Nonfiction",
          "the Silver Compass Award", "the Tessaly Book Prize", "the Brightwater Fellowship",
          "the Golden Inkwell Award", "the Northgate Literary Medal"]
TITLE_ADJECTIVES = ["Silent", "Crimson", "Hollow", "Distant", "Gilded", "Restless", "Forgotten",
                    "Paper", "Salted", "Northern", "Quiet", "Burning", "Borrowed", "Last"]
TITLE_NOUNS = ["Lantern", "Harbour", "Orchard", "Compass", "Archive", "Tide", "Meridian",
               "Garden", "Clockwork", "Ferry", "Atlas", "Lighthouse", "Winter", "Kingdom"]
TITLE_PLACES = ["the Marsh", "Glass", "Ash", "the Valley", "Salt", "Embers", "the North Road",
                "Small Hours", "Dry Rivers", "Old Maps"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
EMAIL_DOMAINS = ["postwell.example", "inkmail.example", "letterbox.example", "quillnet.example"]


@dataclass(frozen=True)
class Person:
    """One fictitious person and the facts the QA pairs ask about."""

    name: str
    birth_date: str
    birth_place: str
    profession: str
    father_profession: str
    mother_profession: str
    works: tuple[str, ...]
    award: str
    email: str
    phone: str


def generate_people(n: int, seed: int = 0) -> list[Person]:
    """``n`` people with distinct names and distinct book titles, fixed by ``seed``."""
    rng = random.Random(seed)
    names: set[str] = set()
    titles: set[str] = set()
    return [_person(rng, _unique(rng, names, make_name), titles) for _ in range(n)]


def _person(rng: random.Random, name: str, titles: set[str]) -> Person:
    father, mother = rng.sample(PROFESSIONS, 2)
    works = tuple(_unique(rng, titles, make_title) for _ in range(2))
    return Person(
        name=name, birth_date=make_date(rng), birth_place=rng.choice(PLACES),
        profession=rng.choice(PROFESSIONS), father_profession=father,
        mother_profession=mother, works=works, award=rng.choice(AWARDS),
        email=make_email(rng, name), phone=make_phone(rng),
    )


def _unique(rng: random.Random, seen: set[str], make: Callable[[random.Random], str]) -> str:
    """Draw from ``make(rng)`` until the value is new; record it in ``seen``."""
    for _ in range(10_000):
        value = make(rng)
        if value not in seen:
            seen.add(value)
            return value
    raise RuntimeError("ran out of distinct values; the word lists are too short")


def make_name(rng: random.Random) -> str:
    """A full name: a 2-3 syllable first name and a 2-3 syllable family name."""
    first = "".join(rng.choice(FIRST_SYLLABLES) for _ in range(rng.randint(2, 3)))
    last = "".join(rng.choice(LAST_SYLLABLES) for _ in range(rng.randint(2, 3)))
    return f"{first.capitalize()} {last.capitalize()}"


def make_title(rng: random.Random) -> str:
    """A book title from the word lists."""
    shape = rng.randrange(3)
    if shape == 0:
        return f"The {rng.choice(TITLE_ADJECTIVES)} {rng.choice(TITLE_NOUNS)}"
    if shape == 1:
        return f"{rng.choice(TITLE_NOUNS)} of {rng.choice(TITLE_PLACES)}"
    return f"A {rng.choice(TITLE_NOUNS)} for {rng.choice(TITLE_PLACES)}"


def make_date(rng: random.Random) -> str:
    """A birth date between 1940 and 2000, e.g. ``14 March 1962``."""
    return f"{rng.randint(1, 28)} {rng.choice(MONTHS)} {rng.randint(1940, 2000)}"


def make_email(rng: random.Random, name: str) -> str:
    """An e-mail-like handle on a reserved ``.example`` domain."""
    first, last = name.lower().split(" ")
    return f"{first}.{last}{rng.randint(10, 99)}@{rng.choice(EMAIL_DOMAINS)}"


def make_phone(rng: random.Random) -> str:
    """A phone-like number under the unassigned country code +99."""
    return f"+99 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
