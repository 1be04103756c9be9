#!/usr/bin/env python3
"""Writes imdb-synthetic.npz (Keras' imdb.npz format, made-up reviews) and imdb-synthetic-expected.json.

The real imdb.npz (17 MB, downloaded by Keras) is not in the repository; this file has the same layout: x_train and
x_test are NumPy object arrays of Python lists of word ranks (1 = most frequent), y_train and y_test int64 labels.
Positive reviews (label 1) use ranks 10-29 more often, negative ones 30-49, so a model can learn them.

The expected file is Keras' imdb.load_data processing (start_char, index_from, maxlen, num_words, skip_top,
oov_char, as keras/src/datasets/imdb.py does it) applied to the file's order, without the shuffle, for the
settings listed in it. Needs numpy. usage: python3 make_imdb_fixture.py (in this folder)
"""
import json

import numpy as np

rng = np.random.RandomState(7)


def review(label):
    length = rng.randint(5, 60)
    words = list(rng.randint(1, 10, size=length // 3))                      # common words
    words += list(rng.randint(10, 30) if label else rng.randint(30, 50) for _ in range(length // 3))
    words += list(rng.randint(50, 400, size=length - len(words)))           # rare words
    rng.shuffle(words)
    return [int(w) for w in words]


def make(n):
    labels = np.array([i % 2 for i in range(n)], dtype=np.int64)
    x = np.empty(n, dtype=object)
    for i in range(n):
        x[i] = review(labels[i])
    return x, labels


def keras_process(x_train, y_train, x_test, y_test, num_words=None, skip_top=0, maxlen=None, start_char=1, oov_char=2, index_from=3):
    if start_char is not None:
        x_train = [[start_char] + [w + index_from for w in x] for x in x_train]
        x_test = [[start_char] + [w + index_from for w in x] for x in x_test]
    elif index_from:
        x_train = [[w + index_from for w in x] for x in x_train]
        x_test = [[w + index_from for w in x] for x in x_test]
    else:
        x_train = [list(x) for x in x_train]
        x_test = [list(x) for x in x_test]
    y_train, y_test = list(map(int, y_train)), list(map(int, y_test))
    if maxlen:
        keep = [i for i, x in enumerate(x_train) if len(x) < maxlen]
        x_train, y_train = [x_train[i] for i in keep], [y_train[i] for i in keep]
        keep = [i for i, x in enumerate(x_test) if len(x) < maxlen]
        x_test, y_test = [x_test[i] for i in keep], [y_test[i] for i in keep]
    xs = x_train + x_test
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    n = len(x_train)
    return {"x_train": xs[:n], "y_train": y_train, "x_test": xs[n:], "y_test": y_test, "num_words": num_words}


x_train, y_train = make(400)
x_test, y_test = make(200)
np.savez_compressed("imdb-synthetic.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
cases = {
    "defaults": {},
    "num_words=100,skip_top=5": {"num_words": 100, "skip_top": 5},
    "num_words=100,skip_top=5,oov_char=None": {"num_words": 100, "skip_top": 5, "oov_char": None},
    "maxlen=30,start_char=None,index_from=0": {"maxlen": 30, "start_char": None, "index_from": 0},
}
expected = {name: {"settings": kw, **keras_process(x_train, y_train, x_test, y_test, **kw)} for name, kw in cases.items()}
with open("imdb-synthetic-expected.json", "w") as f:
    json.dump(expected, f, separators=(",", ":"))
