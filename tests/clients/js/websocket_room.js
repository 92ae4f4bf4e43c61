/*
 * A web client's session over XMPP over WebSocket (RFC 7395), the way
 * xmpp.js (@xmpp/client, @xmpp/websocket) runs in a browser: alice
 * connects to wss://localhost:HTTP_PORT/xmpp-websocket with the standard
 * WebSocket API (Node's, the one browsers have; Node trusts the test
 * certificate through NODE_EXTRA_CA_CERTS and checks the host name), logs
 * in, joins a room; bob is on TCP (STARTTLS); groupchat both ways; alice
 * leaves with <close/>.
 *
 * Run by tests/clients/test_xmppjs.py as `node websocket_room.js C2S_PORT
 * HTTP_PORT` (Node 20 needs --experimental-websocket); prints
 * "CHECK <name>" per verified expectation and "DONE" at the end (the
 * convention of tests/clients/common.py), exits 1 on the first failure.
 */

import { client, xml } from "@xmpp/client";

const NS_MUC = "http://jabber.org/protocol/muc";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const ROOM = "webroom@conference.localhost";
const TIMEOUT = 10000;

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
  constructor(username, password, service) {
    this.queue = [];
    this.waiters = [];
    this.xmpp = client({ service, domain: "localhost", resource: "js", username, password });
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

  /*
   * Join ROOM as nick: wait for one's own presence (status 110).
   */
  async join(nick) {
    await this.xmpp.send(
      xml("presence", { to: `${ROOM}/${nick}` }, xml("x", { xmlns: NS_MUC }, xml("history", { maxstanzas: "0" }))),
    );
    return this.next(
      (stanza) => stanza.is("presence") && stanza.attrs.from === `${ROOM}/${nick}` && isSelf(stanza),
      `the own presence of ${nick}`,
    );
  }
}

function isSelf(presence) {
  const x = presence.getChild("x", NS_MUC_USER);
  return Boolean(x && x.getChildren("status").some((status) => status.attrs.code === "110"));
}

function groupchatFrom(nick, text) {
  return (stanza) =>
    stanza.is("message") &&
    stanza.attrs.type === "groupchat" &&
    stanza.attrs.from === `${ROOM}/${nick}` &&
    stanza.getChildText("body") === text;
}

async function main() {
  const [c2sPort, httpPort] = process.argv.slice(2);
  const alice = new Session("alice", "rabbit hole", `wss://localhost:${httpPort}/xmpp-websocket`);
  const bob = new Session("bob", "can we fix it", `xmpp://127.0.0.1:${c2sPort}`);
  try {
    await alice.start();
    check("websocket-transport", alice.xmpp.Socket.name === "Socket" && alice.xmpp.socket.url.startsWith("wss://"), alice.xmpp.socket.url);
    check("websocket-protocol", alice.xmpp.socket.socket.protocol === "xmpp", alice.xmpp.socket.socket.protocol);
    check("bound", alice.jid.toString() === "alice@localhost/js", alice.jid.toString());
    await bob.start();

    await alice.join("Alice");
    check("joined", true);
    await bob.join("Bob");
    await alice.next(
      (stanza) => stanza.is("presence") && stanza.attrs.from === `${ROOM}/Bob`,
      "the presence of Bob",
    );
    check("sees-tcp-occupant", true);

    await alice.xmpp.send(xml("message", { to: ROOM, type: "groupchat" }, xml("body", {}, "from the browser")));
    await bob.next(groupchatFrom("Alice", "from the browser"), "alice's groupchat");
    check("tcp-got-groupchat", true);
    await bob.xmpp.send(xml("message", { to: ROOM, type: "groupchat" }, xml("body", {}, "from the app")));
    await alice.next(groupchatFrom("Bob", "from the app"), "bob's groupchat");
    check("websocket-got-groupchat", true);

    await alice.xmpp.stop();
    await bob.next(
      (stanza) => stanza.is("presence") && stanza.attrs.from === `${ROOM}/Alice` && stanza.attrs.type === "unavailable",
      "alice leaving",
    );
    check("websocket-closed-left", true);
    await bob.xmpp.stop();
    console.log("DONE");
  } catch (error) {
    console.error(error.stack || String(error));
    process.exitCode = 1;
    await Promise.allSettled([alice.xmpp.stop(), bob.xmpp.stop()]);
  }
}

main();
