/*
 * A MUC session the way an xmpp.js (@xmpp/client) web client does it:
 * log in over STARTTLS (Node trusts the test certificate through
 * NODE_EXTRA_CA_CERTS and checks the host name), create a room, fetch its
 * configuration form with the owner iq and submit it back filled in (xmpp.js
 * has no MUC API: the form is read field by field, as Converse.js does),
 * a second client joins, the occupant list read from the join presences,
 * groupchat both ways, private messages both ways, leave.
 *
 * Run by tests/clients/test_xmppjs.py as `node room.js PORT`; prints
 * "CHECK <name>" per verified expectation and "DONE" at the end (the
 * convention of tests/clients/common.py), exits 1 on the first failure.
 */

import { client, xml } from "@xmpp/client";

const NS_MUC = "http://jabber.org/protocol/muc";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner";
const NS_DATA = "jabber:x:data";
const ROOM = "jsroom@conference.localhost";
const TIMEOUT = 10000;
// XEP-0004 section 3.3.
const FIELD_TYPES = new Set([
  "boolean", "fixed", "hidden", "jid-multi", "jid-single",
  "list-multi", "list-single", "text-multi", "text-private", "text-single",
]);

function check(name, condition, detail) {
  if (!condition) {
    throw new Error(`${name}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
  }
  console.log(`CHECK ${name}`);
}

/*
 * A logged-in client whose received stanzas are queued, so the script can
 * wait for the next one matching a predicate without racing the server.
 */
class Session {
  constructor(username, password, port) {
    this.queue = [];
    this.waiters = [];
    this.xmpp = client({
      service: `xmpp://127.0.0.1:${port}`,
      domain: "localhost",
      resource: "xmppjs",
      username,
      password,
    });
    this.xmpp.on("error", (error) => console.error(`${username}: ${error}`));
    this.xmpp.on("stanza", (stanza) => {
      const index = this.waiters.findIndex((waiter) => waiter.predicate(stanza));
      if (index === -1) {
        this.queue.push(stanza);
      } else {
        const [waiter] = this.waiters.splice(index, 1);
        clearTimeout(waiter.timer);
        waiter.resolve(stanza);
      }
    });
  }

  async start() {
    this.jid = await this.xmpp.start();
    await this.xmpp.send(xml("presence"));
    return this.jid;
  }

  next(predicate, what) {
    const index = this.queue.findIndex(predicate);
    if (index !== -1) {
      return Promise.resolve(this.queue.splice(index, 1)[0]);
    }
    return new Promise((resolve, reject) => {
      const waiter = { predicate, resolve };
      waiter.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out waiting for ${what}`));
      }, TIMEOUT);
      this.waiters.push(waiter);
    });
  }

  send(stanza) {
    return this.xmpp.send(stanza);
  }

  /*
   * Join ROOM as nick; the presences of the others come first and one's
   * own (status 110) last (XEP-0045 7.2.3).
   * Return {self, occupants: {nick: {affiliation, role}}}.
   */
  async join(nick) {
    const occupants = {};
    const fromRoom = (stanza) => stanza.is("presence") && stanza.attrs.from.startsWith(`${ROOM}/`);
    const collect = (stanza) => {
      const item = stanza.getChild("x", NS_MUC_USER).getChild("item");
      occupants[stanza.attrs.from.slice(ROOM.length + 1)] = {
        affiliation: item.attrs.affiliation,
        role: item.attrs.role,
      };
    };
    await this.send(
      xml("presence", { to: `${ROOM}/${nick}` }, xml("x", { xmlns: NS_MUC }, xml("history", { maxstanzas: "0" }))),
    );
    for (;;) {
      const presence = await this.next(fromRoom, `the join presences of ${nick}`);
      if (presence.attrs.type === "error") {
        throw new Error(`join refused: ${presence}`);
      }
      collect(presence);
      if (statusCodes(presence).has("110")) {
        return { self: presence, occupants };
      }
    }
  }

  stop() {
    return this.xmpp.stop();
  }
}

function statusCodes(presence) {
  const x = presence.getChild("x", NS_MUC_USER);
  return new Set(x ? x.getChildren("status").map((status) => status.attrs.code) : []);
}

/*
 * Return [{var, type, values, options}] of a data form.
 */
function readForm(x) {
  return x.getChildren("field").map((field) => ({
    var: field.attrs.var,
    type: field.attrs.type || "text-single",
    values: field.getChildren("value").map((value) => value.text()),
    options: field.getChildren("option").map((option) => option.getChildText("value")),
  }));
}

/*
 * The submitted form: every field of the form with its value, changed
 * where `changes` says so.
 */
function submission(fields, changes) {
  const children = fields
    .filter((field) => field.type !== "fixed" && field.var)
    .map((field) => {
      const values = field.var in changes ? changes[field.var] : field.values;
      return xml("field", { var: field.var, type: field.type }, ...values.map((value) => xml("value", {}, value)));
    });
  return xml("x", { xmlns: NS_DATA, type: "submit" }, ...children);
}

async function getConfig(session) {
  const result = await session.xmpp.iqCaller.request(
    xml("iq", { type: "get", to: ROOM }, xml("query", { xmlns: NS_MUC_OWNER })),
  );
  return readForm(result.getChild("query", NS_MUC_OWNER).getChild("x", NS_DATA));
}

function byVar(fields) {
  return Object.fromEntries(fields.map((field) => [field.var, field]));
}

function body(stanza) {
  return stanza.getChildText("body");
}

async function main() {
  const port = process.argv[2];
  const alice = new Session("alice", "rabbit hole", port);
  const bob = new Session("bob", "can we fix it", port);
  try {
    await Promise.all([alice.start(), bob.start()]);
    const socket = alice.xmpp.socket.socket;
    check("login-starttls", socket.encrypted && socket.authorized, String(socket.authorizationError));
    check("bound", alice.jid.toString() === "alice@localhost/xmppjs", alice.jid.toString());

    // --- creation (XEP-0045 10.1)
    const created = await alice.join("Alice");
    check("create-110-201", ["110", "201"].every((code) => statusCodes(created.self).has(code)), created.self.toString());
    check("create-owner", JSON.stringify(created.occupants) === JSON.stringify({ Alice: { affiliation: "owner", role: "moderator" } }), created.occupants);

    // --- configuration: the owner iq and a form read field by field
    let fields = await getConfig(alice);
    const unknown = fields.filter((field) => !FIELD_TYPES.has(field.type));
    check("config-field-types", unknown.length === 0, unknown);
    const listValues = fields.filter(
      (field) => field.type === "list-single" && field.values.length && !field.options.includes(field.values[0]),
    );
    check("config-list-values-offered", listValues.length === 0, listValues);
    check("config-form-type", byVar(fields).FORM_TYPE.values[0] === "http://jabber.org/protocol/muc#roomconfig", fields);
    const result = await alice.xmpp.iqCaller.request(
      xml(
        "iq",
        { type: "set", to: ROOM },
        xml(
          "query",
          { xmlns: NS_MUC_OWNER },
          submission(fields, {
            "muc#roomconfig_roomname": ["xmpp.js room"],
            "muc#roomconfig_persistentroom": ["1"],
            "muc#roomconfig_publicroom": ["1"],
          }),
        ),
      ),
    );
    check("config-submitted", result.attrs.type === "result", result.toString());
    fields = byVar(await getConfig(alice));
    check(
      "config-applied",
      fields["muc#roomconfig_roomname"].values[0] === "xmpp.js room" &&
        ["1", "true"].includes(fields["muc#roomconfig_persistentroom"].values[0]),
      fields,
    );

    // --- a second client joins; the occupant list from its presences
    const joined = await bob.join("Bob");
    check("bob-occupants", JSON.stringify(joined.occupants) === JSON.stringify({
      Alice: { affiliation: "owner", role: "moderator" },
      Bob: { affiliation: "none", role: "participant" },
    }), joined.occupants);
    const seen = await alice.next((stanza) => stanza.is("presence") && stanza.attrs.from === `${ROOM}/Bob`, "Bob's join");
    check("alice-sees-bob", seen.attrs.type === undefined, seen.toString());

    // --- groupchat both ways, with the echo (7.2.2)
    const isGroupchat = (stanza) => stanza.is("message") && stanza.attrs.type === "groupchat" && body(stanza);
    await alice.send(xml("message", { to: ROOM, type: "groupchat", id: "js-1" }, xml("body", {}, "hello from xmpp.js")));
    let got = await bob.next(isGroupchat, "Alice's groupchat message");
    check("bob-got-groupchat", got.attrs.from === `${ROOM}/Alice` && body(got) === "hello from xmpp.js", got.toString());
    got = await alice.next(isGroupchat, "the echo");
    check("alice-echo", got.attrs.from === `${ROOM}/Alice` && got.attrs.id === "js-1", got.toString());
    await bob.send(xml("message", { to: ROOM, type: "groupchat" }, xml("body", {}, "hi alice")));
    got = await alice.next(isGroupchat, "Bob's groupchat message");
    check("alice-got-groupchat", got.attrs.from === `${ROOM}/Bob` && body(got) === "hi alice", got.toString());

    // --- private messages through the room (7.5), both ways
    const isChat = (stanza) => stanza.is("message") && stanza.attrs.type === "chat" && body(stanza);
    await alice.send(xml("message", { to: `${ROOM}/Bob`, type: "chat" }, xml("body", {}, "psst bob"), xml("x", { xmlns: NS_MUC_USER })));
    got = await bob.next(isChat, "Alice's private message");
    check("pm-received", got.attrs.from === `${ROOM}/Alice` && body(got) === "psst bob", got.toString());
    await bob.send(xml("message", { to: got.attrs.from, type: "chat" }, xml("body", {}, "psst alice"), xml("x", { xmlns: NS_MUC_USER })));
    got = await alice.next(isChat, "Bob's private reply");
    check("pm-reply", got.attrs.from === `${ROOM}/Bob` && body(got) === "psst alice", got.toString());

    // --- leave (7.14)
    await bob.send(xml("presence", { to: `${ROOM}/Bob`, type: "unavailable" }));
    const left = await bob.next((stanza) => stanza.is("presence") && stanza.attrs.from === `${ROOM}/Bob`, "Bob's leave");
    check("bob-left", left.attrs.type === "unavailable" && statusCodes(left).has("110"), left.toString());
    const gone = await alice.next((stanza) => stanza.is("presence") && stanza.attrs.from === `${ROOM}/Bob`, "Bob's leave as Alice sees it");
    check("alice-sees-leave", gone.attrs.type === "unavailable", gone.toString());
  } finally {
    await Promise.allSettled([alice.stop(), bob.stop()]);
  }
  console.log("DONE");
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
