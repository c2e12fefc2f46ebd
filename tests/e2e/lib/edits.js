// Random edits on a real-time model, the way a busy user makes them: string, array, object
// and number operations, none waiting for the server.

"use strict";

/** A small deterministic PRNG (mulberry32) so a failing seed can be replayed. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
  };
}

// Code points of 1 and 2 UTF-16 units, so indices must respect surrogate pairs.
const PIECES = ["a", "b", "c", "x", "é", "ß", " ", "😀", "🎉", "👍🏽", "中", "𝄞", "\n"];

/** UTF-16 indices of every code-point boundary of `s` (0 and s.length included). */
function boundaries(s) {
  const out = [0];
  let i = 0;
  for (const ch of s) {
    i += ch.length;
    out.push(i);
  }
  return out;
}

function randomText(r, maxPieces = 4) {
  let s = "";
  const n = 1 + r.int(maxPieces);
  for (let i = 0; i < n; i++) s += r.pick(PIECES);
  return s;
}

function randomScalar(r, tag) {
  switch (r.int(4)) {
    case 0:
      return r.int(1000);
    case 1:
      return `${tag}-${r.int(100)}`;
    case 2:
      return r.chance(0.5);
    default:
      return randomText(r, 2);
  }
}

/** One random edit of the string element. */
function editString(r, str) {
  const s = str.value();
  const b = boundaries(s);
  const op = r.int(100);
  if (op < 2) {
    str.value(randomText(r, 8)); // replace the whole value (rare: it wipes concurrent work)
  } else if (op < 45 || b.length < 3) {
    str.insert(r.pick(b), randomText(r));
  } else if (op < 75) {
    const i = r.int(b.length - 1);
    const j = i + 1 + r.int(Math.min(4, b.length - 1 - i));
    str.remove(b[i], b[j] - b[i]);
  } else {
    const i = r.int(b.length - 1);
    const j = i + 1 + r.int(Math.min(4, b.length - 1 - i));
    str.splice(b[i], b[j] - b[i], randomText(r));
  }
}

/** One random edit of the array element (kept short so every operation type gets conflicts). */
function editArray(r, arr, tag) {
  const n = arr.length();
  const op = r.int(100);
  if (op < 1) {
    arr.value([randomScalar(r, tag), randomScalar(r, tag)]);
  } else if (op < 40 || n === 0) {
    arr.insert(r.int(n + 1), randomScalar(r, tag));
  } else if (op < 60 || n > 12) {
    arr.remove(r.int(n));
  } else if (op < 80) {
    arr.reorder(r.int(n), r.int(n));
  } else {
    arr.set(r.int(n), randomScalar(r, tag));
  }
}

const KEYS = ["k0", "k1", "k2", "k3", "k4", "k5"];

/** One random edit of the object element. */
function editObject(r, obj, tag) {
  const key = r.pick(KEYS);
  if (r.chance(0.3) && obj.hasKey(key)) obj.remove(key);
  else obj.set(key, randomScalar(r, tag));
}

/** One random edit of the number element (integers only, so the sum is exact). */
function editNumber(r, num) {
  if (r.chance(0.1)) num.value(r.int(100));
  else num.add(r.int(21) - 10);
}

/** One random edit anywhere in a model made from INITIAL_DATA. */
function editModel(r, model, tag) {
  const root = model.root();
  const which = r.int(100);
  if (which < 40) editString(r, root.get("text"));
  else if (which < 70) editArray(r, root.get("list"), tag);
  else if (which < 85) editObject(r, root.get("obj"), tag);
  else editNumber(r, root.get("num"));
}

const INITIAL_DATA = {
  text: "Hello 👋 wörld",
  list: [1, "two", 3, "vier"],
  obj: { k0: 0, k1: "one" },
  num: 0,
};

module.exports = { INITIAL_DATA, boundaries, editModel, editString, editArray, editObject, editNumber, rng, randomText };
