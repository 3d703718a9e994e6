"""A seeded five-class table for bench/budget.sh: twelve uniform numbers, a seven-level category, and a
label from a noisy score of a few of them (the same recipe as the test suite's LoadFixture)."""
import random
import sys

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 73000
rng = random.Random(7)
levels = "abcdefg"
print(",".join([f"x{i}" for i in range(12)] + ["cat", "y"]))
for _ in range(rows):
    x = [rng.uniform(-2, 2) for _ in range(12)]
    level = rng.randrange(len(levels))
    score = x[0] + 0.8 * x[1] * x[2] - 0.5 * x[3] + 0.3 * level + rng.uniform(-1, 1)
    label = min(4, max(0, int((score + 3) / 1.2)))
    print(",".join(f"{v:.4f}" for v in x) + f",{levels[level]},k{label}")
