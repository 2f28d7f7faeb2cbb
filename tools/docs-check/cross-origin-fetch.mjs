// Opens a page in headless Chromium and, from it, fetch()es URLs on other origins, as a web app
// would: what the browser lets the page's script read is what CORS allowed. Prints one JSON
// object, one entry per URL: {"<url>": {"ok": true, "status": 200, "body": "..."} or
// {"ok": false, "error": "TypeError: Failed to fetch"}}.
// usage: node cross-origin-fetch.mjs <page URL> <GET|POST> <URL>...
//   POST sends a JSON body with an Authorization header, so the browser preflights it.
import { chromium } from 'playwright-core';

const [pageUrl, method, ...urls] = process.argv.slice(2);
if (urls.length === 0) {
    console.error('usage: node cross-origin-fetch.mjs <page URL> <GET|POST> <URL>...');
    process.exit(64);
}
const deadline = setTimeout(() => {
    console.error('cross-origin-fetch: no answer within 60 s');
    process.exit(2);
}, 60_000);

const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
    const page = await browser.newPage();
    await page.goto(pageUrl);
    const results = {};
    for (const url of urls) {
        results[url] = await page.evaluate(async ([target, verb]) => {
            try {
                const init = verb === 'POST'
                    ? { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer t' },
                        body: '{"amount": 1}' }
                    : {};
                const res = await fetch(target, init);
                return { ok: true, status: res.status, body: await res.text() };
            } catch (e) {
                return { ok: false, error: String(e) };
            }
        }, [url, method]);
    }
    console.log(JSON.stringify(results));
} finally {
    clearTimeout(deadline);
    await browser.close();
}
