// Helpers of the permission tests: rights as plain objects, and the comparison of a denied
// answer with the answer for a model that does not exist.

"use strict";

const assert = require("node:assert/strict");

const RIGHTS = ["read", "write", "remove", "manage"];

/** {read, write, remove, manage} booleans from a list of names (or a client ModelPermissions). */
function rights(p) {
  const names = Array.isArray(p) ? p : RIGHTS.filter((r) => p && p[r]);
  return Object.fromEntries(RIGHTS.map((r) => [r, names.includes(r)]));
}

/** The rights not in `names`. */
function complement(names) {
  return RIGHTS.filter((r) => !names.includes(r));
}

/** Resolves with {ok: value} or {err: error}; never rejects. */
async function settle(promiseOrFn) {
  try {
    const p = typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn;
    return { ok: await p };
  } catch (err) {
    return { err };
  }
}

/** An error's visible parts with `id` replaced, so answers about two ids can be compared. */
function shape(err, id) {
  const sub = (s) => (typeof s === "string" ? s.split(id).join("<id>") : s);
  const details = err.details === undefined ? undefined : JSON.parse(sub(JSON.stringify(err.details)));
  return { code: err.code, message: sub(err.message), details };
}

/**
 * Runs `call(id)` for the model `id` and for an id that exists nowhere; both must reject
 * identically (code, message with the id, details): what a missing model answers, which is
 * `missingCode` (model_not_found unless the call would create the model).
 */
async function assertAnswersAsMissing(call, id, what, missingCode = "model_not_found") {
  const missing = `${id}-never-created`;
  const [denied, absent] = [await settle(() => call(id)), await settle(() => call(missing))];
  assert.ok(absent.err, `${what}: the missing model ${missing} was answered with ${JSON.stringify(absent.ok)}`);
  assert.equal(absent.err.code, missingCode, `${what}: a missing model answers ${missingCode}`);
  assert.ok(denied.err, `${what}: succeeded on ${id} (${JSON.stringify(denied.ok)}), expected the missing-model answer`);
  assert.deepEqual(shape(denied.err, id), shape(absent.err, missing), `${what}: answer differs from a missing model's`);
}

/** `promise` must reject with `code`; returns the error. */
async function assertRejectsWith(promise, code, what) {
  const r = await settle(promise);
  assert.ok(r.err, `${what}: succeeded (${JSON.stringify(r.ok)}), expected ${code}`);
  assert.equal(r.err.code, code, `${what}: ${r.err.message}`);
  return r.err;
}

module.exports = { RIGHTS, assertAnswersAsMissing, assertRejectsWith, complement, rights, settle, shape };
