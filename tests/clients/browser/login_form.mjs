// Converse.js renders offline: the page and every asset it loads come from
// the page's own server, the login form shows, and nothing is asked of
// any other host.

import { check, run } from "./browser.mjs";

await run(async (page, session, options) => {
    await page.goto(options.page);
    const form = page.locator("converse-login-form form");
    await form.waitFor({ state: "visible", timeout: 30000 });
    check("login-form", await page.locator("#converse-login-jid").isVisible());
    check("converse-loaded", (await page.evaluate(() => window.converse && typeof window.converse.initialize)) === "function");
    await page.screenshot({ path: options.screenshot, animations: "disabled" });
    check("screenshot", true);
});
