// The package entry: the native engine with JS-style errors (`code` = the engine's stable
// error name, `errno` = its number) and async iteration over event subscriptions.
"use strict";
const native = require("./index.js");

function convert(err) {
  const m = /^TANDEM:(\d+):([a-z_]+):([\s\S]*)$/.exec(err && err.message);
  if (!m) return err;
  const e = new Error(m[3]);
  e.code = m[2];
  e.errno = Number(m[1]);
  return e;
}

function wrap(fn) {
  return function (...args) {
    let result;
    try {
      result = fn.apply(this, args);
    } catch (err) {
      throw convert(err);
    }
    if (result && typeof result.then === "function") return result.catch((err) => { throw convert(err); });
    return result;
  };
}

for (const Cls of [native.Engine, native.Subscription]) {
  for (const name of Object.getOwnPropertyNames(Cls.prototype)) {
    if (name === "constructor") continue;
    const d = Object.getOwnPropertyDescriptor(Cls.prototype, name);
    if (typeof d.value === "function") Cls.prototype[name] = wrap(d.value);
  }
}

native.Subscription.prototype[Symbol.asyncIterator] = async function* () {
  for (;;) {
    const event = await this.next(250);
    if (event === null) {
      if (this._closed) return;
      continue;
    }
    yield event;
  }
};
const close = native.Subscription.prototype.close;
native.Subscription.prototype.close = function () {
  this._closed = true;
  return close.call(this);
};

class Engine extends native.Engine {
  constructor(config) {
    try {
      super(config === undefined ? null : config);
    } catch (err) {
      throw convert(err);
    }
  }
}

module.exports = { Engine, Subscription: native.Subscription };
