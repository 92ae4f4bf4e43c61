// What every browser script does: start Debian's Chromium headless through
// playwright-core on a closed network, open the page, report checks.
//
// A script is run as `node NAME.mjs SETTINGS` (a JSON object, see
// tests/support/browser.py); it prints one `CHECK <name>` line per verified
// expectation and `DONE` at the end, and exits non-zero with the reason on
// the first failed one.

import { chromium } from "playwright-core";

export function settings() {
    return JSON.parse(process.argv[2]);
}

export function check(name, condition, detail = "") {
    if (!condition) {
        throw new Error(`${name}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
    }
    console.log("CHECK", name);
}

// Resolve once `condition()` is true (checked as events come in), or after
// `timeout` ms; the caller checks the condition again to report it.
export async function until(condition, timeout) {
    const deadline = Date.now() + timeout;
    while (!condition() && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

// Loopback only: the machine running the tests has no other network, and
// a page that reaches for one would hang or fail there.
function isLoopback(hostname) {
    return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

// Chromium as root needs --no-sandbox; the others keep it from calling
// home (updates, sync, field trials, QUIC probes) on a network that has no
// outside.  `hostRules` maps a host:port (e.g. the XMPP domain's
// https://localhost/ where XEP-0156 discovery looks) to the test server,
// and `certificatePin` lets the test server's self-signed certificate (and
// only it) through TLS.
export async function launch(options) {
    const args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-features=Translate,OptimizationHints,MediaRouter",
    ];
    if (options.hostRules) {
        args.push(`--host-resolver-rules=${options.hostRules}`);
    }
    if (options.certificatePin) {
        args.push(`--ignore-certificate-errors-spki-list=${options.certificatePin}`);
    }
    // playwright gives the browser a fresh, empty profile directory.
    const browser = await chromium.launch({ executablePath: options.chromium, headless: true, args });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const outside = [];
    await context.route("**/*", (route) => {
        const url = new URL(route.request().url());
        if (url.protocol === "data:" || url.protocol === "blob:" || isLoopback(url.hostname)) {
            return route.continue();
        }
        outside.push(url.href);
        return route.abort("blockedbyclient");
    });
    const page = await context.newPage();
    page.on("console", (message) => console.error(`console.${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => console.error(`pageerror: ${error.stack || error}`));
    return { browser, context, page, outside };
}

// Run `steps(page, session)` and exit as the checks say; the browser is
// always closed.
export async function run(steps) {
    const options = settings();
    let session;
    try {
        session = await launch(options);
        await steps(session.page, session, options);
        check("nothing-from-outside", session.outside.length === 0, session.outside);
        console.log("DONE");
    } catch (error) {
        console.error(error.stack || String(error));
        process.exitCode = 1;
    } finally {
        if (session) {
            await session.browser.close();
        }
    }
}
