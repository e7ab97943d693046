"""Write reviews.csv: ~150 short, invented product reviews labelled positive / negative.

Deterministic (seeded); run once and commit the CSV:

    python examples/configs/data/make_reviews.py

Every review is made up from the word lists below; no real customer wrote any.
About one review in twelve is a "hard" one whose sentiment hinges on a
negation ("not worth it", "never broke"), so a model cannot score perfectly
on keywords alone.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

SEED = 20240601
ROWS = 150

PRODUCTS = {
    "kitchen": ["kettle", "blender", "toaster", "frying pan", "coffee grinder", "knife set"],
    "electronics": ["headphones", "phone charger", "keyboard", "webcam", "speaker", "mouse"],
    "outdoor": ["tent", "backpack", "water bottle", "hiking boots", "camping stove", "rain jacket"],
}
POSITIVE = [
    "works perfectly", "great value for the price", "excellent build quality", "arrived quickly and works well",
    "I love it", "exceeded my expectations", "very comfortable", "sturdy and reliable", "highly recommend",
    "does exactly what it says", "best purchase this year", "fantastic, five stars",
]
NEGATIVE = [
    "stopped working after a week", "cheap and flimsy", "waste of money", "arrived broken",
    "I regret buying it", "terrible quality", "very uncomfortable", "fell apart quickly", "would not recommend",
    "does not do what it says", "worst purchase this year", "awful, one star",
]
POSITIVE_EXTRA = ["Will buy again.", "My family uses it every day.", "Packaging was neat.", "Easy to clean.", ""]
NEGATIVE_EXTRA = ["Returned it.", "Support never answered.", "Packaging was torn.", "Hard to clean.", ""]
HARD_POSITIVE = ["not a single problem so far", "never had an issue with it", "could not be happier"]
HARD_NEGATIVE = ["not worth the money", "never worked properly", "could not be more disappointed"]


def review(rng: random.Random, label: str, category: str) -> str:
    product = rng.choice(PRODUCTS[category])
    hard = rng.random() < 1 / 12
    if label == "positive":
        phrase = rng.choice(HARD_POSITIVE if hard else POSITIVE)
        extra = rng.choice(POSITIVE_EXTRA)
    else:
        phrase = rng.choice(HARD_NEGATIVE if hard else NEGATIVE)
        extra = rng.choice(NEGATIVE_EXTRA)
    opener = rng.choice(["The {p}: {s}.", "Bought the {p} last month, {s}.", "{S} - the {p}.", "Review of my new {p}: {s}."])
    text = opener.format(p=product, s=phrase, S=phrase[0].upper() + phrase[1:])
    return f"{text} {extra}".strip()


def main() -> None:
    rng = random.Random(SEED)
    rows = []
    seen: set[str] = set()
    while len(rows) < ROWS:
        label = "positive" if len(rows) % 2 == 0 else "negative"
        category = rng.choice(sorted(PRODUCTS))
        text = review(rng, label, category)
        if text in seen:
            continue
        seen.add(text)
        rows.append({"review_id": f"r{len(rows) + 1:03d}", "review": text, "sentiment": label, "category": category})
    target = Path(__file__).with_name("reviews.csv")
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["review_id", "review", "sentiment", "category"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {target}")


if __name__ == "__main__":
    main()
