// The package entry: the public JS classes over the native handles (Engine → Domain → Model →
// Subscription). Every engine call returns a Promise; model data, changes, history and events
// cross the native boundary as JSON text, so unpaired surrogates survive; failures are
// instances of the Error subclasses built below from the engine's own error-code table.
"use strict";
const { EventEmitter } = require("node:events");
const native = require("./native.js");

/** Base class of every engine error: `code` is the stable name, `errno` the number. */
class TandemError extends Error {}
Object.defineProperty(TandemError.prototype, "name", { value: "TandemError", writable: true });

const errors = {};
const byErrno = new Map();
for (const { errno, code, className } of native.errorCodes()) {
  const name = `${className}Error`;
  const cls = { [name]: class extends TandemError {} }[name];
  for (const [k, v] of Object.entries({ name, code, errno })) {
    Object.defineProperty(cls.prototype, k, { value: v, writable: true });
    Object.defineProperty(cls, k, { value: v });
  }
  errors[name] = cls;
  byErrno.set(errno, cls);
}

// A native rejection carries `errno`: rethrow it as the matching subclass.
function rethrow(err) {
  const cls = err && byErrno.get(err.errno);
  throw cls ? new cls(err.message) : err;
}
const call = (promise) => promise.catch(rethrow);
const parse = (text) => (text == null ? null : JSON.parse(text));

class Subscription extends EventEmitter {
  #n;
  #pushing = false;
  /** @internal */
  constructor(n) {
    super();
    this.#n = n;
    this.on("newListener", (name) => {
      if (name !== "event" || this.#pushing) return;
      this.#pushing = true;
      this.#n.onEvent((text) => this.emit("event", JSON.parse(text)));
    });
    this.on("removeListener", (name) => {
      if (name === "event" && this.listenerCount("event") === 0) this.close();
    });
  }
  async next() {
    return parse(await call(this.#n.next()));
  }
  close() {
    this.#n.close();
  }
  get closed() {
    return this.#n.closed;
  }
  [Symbol.asyncIterator]() {
    const it = {
      next: async () => {
        const value = await this.next();
        return value === null ? { value: undefined, done: true } : { value, done: false };
      },
      return: async () => {
        this.close();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }
}

class Model {
  #n;
  /** @internal */
  constructor(domain, n) {
    this.domain = domain;
    this.#n = n;
  }
  get id() {
    return this.#n.id;
  }
  async info() {
    return call(this.#n.info());
  }
  async json() {
    return parse(await call(this.#n.jsonText()));
  }
  async jsonAt(version) {
    return parse(await call(this.#n.jsonTextAt(version)));
  }
  async apply(changes, options) {
    return call(this.#n.apply(JSON.stringify(changes), options?.user ?? null));
  }
  async history(first, last) {
    return parse(await call(this.#n.historyJson(first, last)));
  }
  async undo(scope, options) {
    return call(this.#n.undo(scope, options?.by ?? null, false));
  }
  async redo(scope, options) {
    return call(this.#n.undo(scope, options?.by ?? null, true));
  }
  async versionAt(timeMs) {
    return call(this.#n.versionAt(timeMs));
  }
  async delete() {
    await call(this.#n.delete());
  }
  async permissions() {
    return call(this.#n.permissions());
  }
  async setPermissions(change) {
    await call(this.#n.setPermissions(change));
  }
  async rightsOf(user) {
    return call(this.#n.rightsOf(user));
  }
  events() {
    return new Subscription(this.#n.subscribe());
  }
}

class Domain {
  #n;
  /** @internal */
  constructor(engine, n) {
    this.engine = engine;
    this.#n = n;
  }
  get namespace() {
    return this.#n.namespace;
  }
  get id() {
    return this.#n.id;
  }
  async settings() {
    return call(this.#n.settings());
  }
  async setSettings(settings) {
    await call(this.#n.setSettings(settings));
  }
  async setAnonymousAuth(allowed) {
    await call(this.#n.setAnonymousAuth(allowed));
  }
  async createCollection(id) {
    await call(this.#n.createCollection(id));
  }
  async collections() {
    return call(this.#n.collections());
  }
  async deleteCollection(id) {
    await call(this.#n.deleteCollection(id));
  }
  async createModel(collection, data, id) {
    return new Model(this, await call(this.#n.createModel(collection, JSON.stringify(data), id ?? null)));
  }
  async models(collection) {
    return call(this.#n.models(collection ?? null));
  }
  async model(id) {
    return new Model(this, await call(this.#n.model(id)));
  }
  async query(query, options) {
    return call(this.#n.query(query, options?.user ?? null));
  }
  async createUser(user) {
    return call(this.#n.createUser(user));
  }
  async users() {
    return call(this.#n.users());
  }
  async setPassword(username, password) {
    await call(this.#n.setPassword(username, password));
  }
  async deleteUser(username) {
    await call(this.#n.deleteUser(username));
  }
  async addJwtKey(key) {
    return call(this.#n.addJwtKey(key));
  }
  async jwtKeys() {
    return call(this.#n.jwtKeys());
  }
  async removeJwtKey(id) {
    await call(this.#n.removeJwtKey(id));
  }
  async user(username) {
    return call(this.#n.user(username));
  }
  async updateUser(username, profile) {
    return call(this.#n.updateUser(username, profile));
  }
  async setUserDisabled(username, disabled) {
    await call(this.#n.setUserDisabled(username, disabled));
  }
  async createGroup(id, description) {
    return call(this.#n.createGroup(id, description ?? ""));
  }
  async setGroupDescription(id, description) {
    await call(this.#n.setGroupDescription(id, description));
  }
  async deleteGroup(id) {
    await call(this.#n.deleteGroup(id));
  }
  async group(id) {
    return call(this.#n.group(id));
  }
  async groups() {
    return call(this.#n.groups());
  }
  async presence(users) {
    return call(this.#n.presence(users));
  }
  async addGroupMember(group, user) {
    await call(this.#n.addGroupMember(group, user));
  }
  async removeGroupMember(group, user) {
    await call(this.#n.removeGroupMember(group, user));
  }
  async userGroups(user) {
    return call(this.#n.userGroups(user));
  }
  async collectionPermissions(id) {
    return call(this.#n.collectionPermissions(id));
  }
  async setCollectionWorld(id, world) {
    await call(this.#n.setCollectionWorld(id, world));
  }
  async setCollectionUser(id, user, rights) {
    await call(this.#n.setCollectionUser(id, user, rights ?? null));
  }
  async setState(state) {
    await call(this.#n.setState(state));
  }
  async adminToken(username, ttlSecs) {
    return call(this.#n.adminToken(username, ttlSecs));
  }
  async permissions(target) {
    return call(this.#n.permissions(target));
  }
  async changePermissions(target, change) {
    await call(this.#n.changePermissions(target, change));
  }
  async resolvePermissions(target, user) {
    return call(this.#n.resolvePermissions(target, user));
  }
  async createActivity(type, id, permissions) {
    await call(this.#n.createActivity(type, id, permissions ?? null));
  }
  async deleteActivity(type, id) {
    await call(this.#n.deleteActivity(type, id));
  }
  async activityExists(type, id) {
    return call(this.#n.activityExists(type, id));
  }
  async activityParticipants(type, id) {
    return call(this.#n.activityParticipants(type, id));
  }
  async activities() {
    return call(this.#n.activities());
  }
  async sessions() {
    return call(this.#n.sessions());
  }
  async disconnectSession(id) {
    await call(this.#n.disconnectSession(id));
  }
  async addWebhook(webhook) {
    return call(this.#n.addWebhook(webhook));
  }
  async webhooks() {
    return call(this.#n.webhooks());
  }
  async removeWebhook(id) {
    await call(this.#n.removeWebhook(id));
  }
  async webhookDeliveries(id) {
    return call(this.#n.webhookDeliveries(id));
  }
  async createApiKey(name, readOnly) {
    return call(this.#n.createApiKey(name, readOnly ?? false));
  }
  async apiKeys() {
    return call(this.#n.apiKeys());
  }
  async revokeApiKey(id) {
    await call(this.#n.revokeApiKey(id));
  }
  async verifyApiKey(token) {
    return call(this.#n.verifyApiKey(token));
  }
  async createChat(chat) {
    return call(this.#n.createChat(chat));
  }
  async directChat(users) {
    return call(this.#n.directChat(users));
  }
  async removeChat(id) {
    await call(this.#n.removeChat(id));
  }
  async chat(id) {
    return call(this.#n.chat(id));
  }
  async chats() {
    return call(this.#n.chats());
  }
  async addChatMember(id, user) {
    await call(this.#n.changeChatMember(id, user, true));
  }
  async removeChatMember(id, user) {
    await call(this.#n.changeChatMember(id, user, false));
  }
  async setChatName(id, name) {
    await call(this.#n.setChatText(id, name, false));
  }
  async setChatTopic(id, topic) {
    await call(this.#n.setChatText(id, topic, true));
  }
  async postChatMessage(id, text, options) {
    return call(this.#n.postChatMessage(id, text, options?.user ?? null));
  }
  async chatHistory(id, query) {
    return call(this.#n.chatHistory(id, query ?? null));
  }
  events() {
    return new Subscription(this.#n.subscribe());
  }
}

class Engine {
  #n;
  /** @internal Use `Engine.open`. */
  constructor(n) {
    if (!(n instanceof native.NativeEngine)) throw new TypeError("use `await Engine.open(config)`");
    this.#n = n;
  }
  static async open(config) {
    return new Engine(await call(native.NativeEngine.open(config ?? null)));
  }
  async createDomain(namespace, id, settings) {
    return new Domain(this, await call(this.#n.createDomain(namespace, id, settings ?? null)));
  }
  async domain(namespace, id) {
    return new Domain(this, await call(this.#n.domain(namespace, id)));
  }
  async domains() {
    return call(this.#n.domains());
  }
  async deleteDomain(namespace, id) {
    await call(this.#n.deleteDomain(namespace, id));
  }
  async addAdmin(username, password) {
    return call(this.#n.addAdmin(username, password));
  }
  async setAdminPassword(username, password) {
    await call(this.#n.setAdminPassword(username, password));
  }
  async removeAdmin(username) {
    await call(this.#n.removeAdmin(username));
  }
  async admins() {
    return call(this.#n.admins());
  }
  async adminLogin(username, password) {
    return call(this.#n.adminLogin(username, password));
  }
  async verifyAdminToken(token) {
    return call(this.#n.verifyAdminToken(token));
  }
  events() {
    try {
      return new Subscription(this.#n.subscribe());
    } catch (err) {
      return rethrow(err);
    }
  }
  async listen(address, config) {
    return call(this.#n.listen(address, config ?? null));
  }
  async stopListening() {
    return call(this.#n.stopListening());
  }
  async shutdown() {
    await call(this.#n.shutdown());
  }
}

/** The engine's error-code table: `{ errno, code, className }` per code, in numeric order. */
const errorCodes = native.errorCodes();

module.exports = { Engine, Domain, Model, Subscription, TandemError, errorCodes, ...errors };
