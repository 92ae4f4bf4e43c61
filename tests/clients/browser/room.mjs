// A person on a community's web page: Converse.js finds the server's
// WebSocket through XEP-0156 host-meta, logs in, joins the room (set to
// auto-join), says something, reads what the other occupant (a slixmpp
// client run by the test) says, and shares a picture with HTTP File Upload
// (XEP-0363) through the file input of the room's toolbar.  The screenshot
// shows the room at the end.

import { check, run, until } from "./browser.mjs";

await run(async (page, session, options) => {
    const timeout = options.timeout || 60000;
    const hostMeta = [];
    const websockets = [];
    const received = [];
    page.on("response", (response) => {
        if (new URL(response.url()).pathname === "/.well-known/host-meta") {
            hostMeta.push({ url: response.url(), status: response.status() });
        }
    });
    page.on("websocket", (websocket) => {
        websockets.push(websocket.url());
        websocket.on("framereceived", (frame) => received.push(String(frame.payload)));
    });

    await page.goto(options.page);
    const loggedIn = () => received.some((frame) => frame.startsWith("<success"));
    await until(loggedIn, timeout);
    // XEP-0156 as Converse.js does it: the XRD document at the JID's domain.
    check("host-meta", hostMeta.some((r) => r.url === options.hostMeta && r.status === 200), hostMeta);
    check("websocket-discovered", websockets.length > 0 && websockets.every((url) => url === options.websocket), {
        websockets,
        advertised: options.websocket,
    });
    check("logged-in", loggedIn(), received.slice(0, 8));
    // XEP-0045 7.2.2: the self-presence carries status 110.
    const selfPresence = (frame) =>
        frame.startsWith("<presence") && frame.includes(options.room) && /code=["']110["']/.test(frame);
    await until(() => received.some(selfPresence), timeout);
    check("joined", received.some(selfPresence), received.filter((frame) => frame.startsWith("<presence")));

    const room = page.locator(`converse-muc[jid="${options.room}"]`);
    const textarea = room.locator("textarea.chat-textarea");
    await textarea.waitFor({ state: "visible", timeout });

    await textarea.fill(options.send);
    await textarea.press("Enter");
    await room.locator(".chat-msg__text", { hasText: options.send }).waitFor({ state: "visible", timeout });
    check("sent-shown", true);

    await room.locator(".chat-msg__text", { hasText: options.expect }).waitFor({ state: "visible", timeout });
    check("peer-message-shown", true);

    await room.locator("input.fileupload").setInputFiles(options.image);
    const image = room.locator("img.chat-image");
    await image.waitFor({ state: "visible", timeout });
    await page.waitForFunction((element) => element.complete && element.naturalWidth > 0, await image.elementHandle(), { timeout });
    const source = await image.getAttribute("src");
    check("image-shown", source && source.startsWith(options.uploadBase), { source, uploadBase: options.uploadBase });

    await page.screenshot({ path: options.screenshot, animations: "disabled" });
    check("screenshot", true);
});
