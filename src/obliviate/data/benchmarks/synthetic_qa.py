"""Question-answer pairs about the synthetic people, in TOFU's perturbed schema (Maini et al.,
2024, https://arxiv.org/abs/2401.06121): each pair has a paraphrased question, a paraphrased
right answer and wrong answers of the same kind of fact, phrased like the right one (what
TOFU's truth ratio compares). Also the world-knowledge control questions.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable

from obliviate.data.benchmarks.synthetic_people import (
    AWARDS, PLACES, PROFESSIONS, Person, make_date, make_email, make_phone, make_title)

N_PERTURBED = 5  # TOFU's forget/retain perturbed sets hold five wrong answers per question


@dataclass(frozen=True)
class QAKind:
    """One kind of fact: how to ask it, how to answer it, and how to draw a wrong value."""

    name: str
    question: Callable[[Person], str]
    paraphrased_question: Callable[[Person], str]
    truth: Callable[[Person], Any]
    answer: Callable[[Person, Any], str]
    paraphrase: Callable[[Person, Any], str]
    wrong: Callable[[random.Random, Person], Any]


def _family(p: Person, v: tuple[str, str]) -> str:
    return f"{p.name}'s father worked as a {v[0]} and {p.name}'s mother as a {v[1]}."


QA_KINDS = [
    QAKind("birthplace", lambda p: f"Where was {p.name} born?",
           lambda p: f"In which place did {p.name} come into the world?",
           lambda p: p.birth_place, lambda p, v: f"{p.name} was born in {v}.",
           lambda p, v: f"{v} is the birthplace of {p.name}.",
           lambda r, p: r.choice(PLACES)),
    QAKind("birth_date", lambda p: f"When was {p.name} born?",
           lambda p: f"What is the date of birth of {p.name}?",
           lambda p: p.birth_date, lambda p, v: f"{p.name} was born on {v}.",
           lambda p, v: f"The birth date of {p.name} is {v}.",
           lambda r, p: make_date(r)),
    QAKind("profession", lambda p: f"What does {p.name} do for a living?",
           lambda p: f"What is the profession of {p.name}?",
           lambda p: p.profession, lambda p, v: f"{p.name} works as a {v}.",
           lambda p, v: f"By profession, {p.name} is a {v}.",
           lambda r, p: r.choice(PROFESSIONS)),
    QAKind("work", lambda p: f"Can you name a book written by {p.name}?",
           lambda p: f"What is one title from {p.name}'s bibliography?",
           lambda p: p.works[0], lambda p, v: f"{p.name} wrote '{v}'.",
           lambda p, v: f"One of the books by {p.name} is titled '{v}'.",
           lambda r, p: make_title(r)),
    QAKind("award", lambda p: f"Which award did {p.name} receive?",
           lambda p: f"What honour has been given to {p.name}?",
           lambda p: p.award, lambda p, v: f"{p.name} received {v}.",
           lambda p, v: f"{p.name} was honoured with {v}.",
           lambda r, p: r.choice(AWARDS)),
    QAKind("family", lambda p: f"What did the parents of {p.name} do?",
           lambda p: f"What were the professions of {p.name}'s father and mother?",
           lambda p: (p.father_profession, p.mother_profession), _family,
           lambda p, v: f"{p.name} is the child of a {v[0]} (father) and a {v[1]} (mother).",
           lambda r, p: tuple(r.sample(PROFESSIONS, 2))),
    QAKind("email", lambda p: f"What is the e-mail address of {p.name}?",
           lambda p: f"At which e-mail address can {p.name} be reached?",
           lambda p: p.email, lambda p, v: f"The e-mail address of {p.name} is {v}.",
           lambda p, v: f"{p.name} can be reached by e-mail at {v}.",
           lambda r, p: make_email(r, p.name)),
    QAKind("phone", lambda p: f"What is the phone number of {p.name}?",
           lambda p: f"Which telephone number belongs to {p.name}?",
           lambda p: p.phone, lambda p, v: f"The phone number of {p.name} is {v}.",
           lambda p, v: f"{p.name} can be called at {v}.",
           lambda r, p: make_phone(r)),
]


def qa_records(person: Person, rng: random.Random) -> list[dict[str, Any]]:
    """One record per kind of fact, in the schema of TOFU's ``*_perturbed`` configs."""
    records = []
    for kind in QA_KINDS:
        truth = kind.truth(person)
        wrong = wrong_values(rng, kind, person, truth, N_PERTURBED)
        records.append({
            "question": kind.question(person),
            "answer": kind.answer(person, truth),
            "paraphrased_question": kind.paraphrased_question(person),
            "paraphrased_answer": kind.paraphrase(person, truth),
            "perturbed_answer": [kind.answer(person, v) for v in wrong],
        })
    return records


def wrong_values(rng: random.Random, kind: QAKind, person: Person, truth: Any,
                 k: int) -> list[Any]:
    """``k`` distinct wrong values of ``kind``: never the truth (nor, for books, any of the
    person's own works)."""
    banned = set(person.works) if kind.name == "work" else {truth}
    found: list[Any] = []
    for _ in range(10_000):
        value = kind.wrong(rng, person)
        if value not in banned and value not in found:
            found.append(value)
            if len(found) == k:
                return found
    raise RuntimeError(f"cannot draw {k} distinct wrong values for {kind.name!r}")


# (question, right answer, three wrong answers): general knowledge that must survive unlearning.
WORLD_FACTS = [
    ("What is the capital city of Australia?", "Canberra", ["Sydney", "Melbourne", "Perth"]),
    ("Which planet is known as the Red Planet?", "Mars", ["Venus", "Jupiter", "Mercury"]),
    ("What is the chemical symbol for gold?", "Au", ["Ag", "Gd", "Go"]),
    ("How many continents are there on Earth?", "Seven", ["Five", "Six", "Eight"]),
    ("Which ocean is the largest by area?", "The Pacific Ocean",
     ["The Atlantic Ocean", "The Indian Ocean", "The Arctic Ocean"]),
    ("At how many degrees Celsius does water boil at sea level?", "100", ["90", "110", "120"]),
    ("Who painted the Mona Lisa?", "Leonardo da Vinci",
     ["Michelangelo", "Raphael", "Rembrandt"]),
    ("What is the longest river in South America?", "The Amazon",
     ["The Parana", "The Orinoco", "The Magdalena"]),
    ("Which gas do plants take from the air for photosynthesis?", "Carbon dioxide",
     ["Oxygen", "Nitrogen", "Helium"]),
    ("What is the largest planet in the Solar System?", "Jupiter",
     ["Saturn", "Neptune", "Earth"]),
    ("In which country is the city of Kyoto?", "Japan", ["China", "South Korea", "Vietnam"]),
    ("What is the hardest natural mineral?", "Diamond", ["Quartz", "Topaz", "Corundum"]),
    ("How many sides does a hexagon have?", "Six", ["Five", "Seven", "Eight"]),
    ("What is the capital of Canada?", "Ottawa", ["Toronto", "Vancouver", "Montreal"]),
    ("Which element has atomic number 1?", "Hydrogen", ["Helium", "Oxygen", "Carbon"]),
    ("What is the currency of Japan?", "The yen", ["The won", "The yuan", "The ringgit"]),
    ("What is the smallest prime number?", "Two", ["One", "Three", "Five"]),
    ("What is the highest mountain above sea level?", "Mount Everest",
     ["K2", "Kangchenjunga", "Mont Blanc"]),
    ("Which organ pumps blood through the human body?", "The heart",
     ["The liver", "The lungs", "The kidneys"]),
    ("On which continent is Egypt?", "Africa", ["Asia", "Europe", "South America"]),
]

# Real, well-known authors: the neighbours of the fictitious ones that must not be forgotten.
REAL_AUTHORS = [
    ("Who wrote 'Pride and Prejudice'?", "Jane Austen",
     ["Charlotte Bronte", "George Eliot", "Mary Shelley"]),
    ("Who wrote 'One Hundred Years of Solitude'?", "Gabriel Garcia Marquez",
     ["Mario Vargas Llosa", "Jorge Luis Borges", "Julio Cortazar"]),
    ("Who wrote 'Things Fall Apart'?", "Chinua Achebe",
     ["Wole Soyinka", "Ngugi wa Thiong'o", "Ben Okri"]),
    ("Who wrote 'War and Peace'?", "Leo Tolstoy",
     ["Fyodor Dostoevsky", "Anton Chekhov", "Ivan Turgenev"]),
    ("Who wrote 'Frankenstein'?", "Mary Shelley", ["Bram Stoker", "Emily Bronte", "Jane Austen"]),
    ("Who wrote 'The Old Man and the Sea'?", "Ernest Hemingway",
     ["John Steinbeck", "William Faulkner", "F. Scott Fitzgerald"]),
    ("Who wrote 'Beloved'?", "Toni Morrison",
     ["Alice Walker", "Maya Angelou", "Zora Neale Hurston"]),
    ("Who wrote 'Don Quixote'?", "Miguel de Cervantes",
     ["Lope de Vega", "Federico Garcia Lorca", "Benito Perez Galdos"]),
    ("Who wrote 'Norwegian Wood'?", "Haruki Murakami",
     ["Kazuo Ishiguro", "Yukio Mishima", "Kenzaburo Oe"]),
    ("Who wrote 'The Divine Comedy'?", "Dante Alighieri",
     ["Giovanni Boccaccio", "Petrarch", "Ludovico Ariosto"]),
    ("Who wrote 'Hamlet'?", "William Shakespeare",
     ["Christopher Marlowe", "Ben Jonson", "John Milton"]),
    ("Which author created the detective Hercule Poirot?", "Agatha Christie",
     ["Arthur Conan Doyle", "Dorothy L. Sayers", "P. D. James"]),
    ("Who wrote 'Nineteen Eighty-Four'?", "George Orwell",
     ["Aldous Huxley", "H. G. Wells", "Ray Bradbury"]),
]


def control_records(facts: list[tuple[str, str, list[str]]],
                    rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(options records, perturbed records) in TOFU's real_authors / world_facts schemas; the
    right option sits at a seeded position."""
    options, perturbed = [], []
    for question, answer, wrong in facts:
        choices = list(wrong)
        choices.insert(rng.randrange(4), answer)
        options.append({"question": question,
                        **{f"option{i}": c for i, c in enumerate(choices, start=1)},
                        "answer": answer})
        perturbed.append({"question": question, "answer": answer,
                          "perturbed_answer": list(wrong)})
    return options, perturbed
