// Opens a keel app's /docs page in headless Chromium with no network beyond loopback, lists the
// operations the page shows, and runs "Try it out" on one GET operation. Prints one JSON object:
//   {"operations": ["GET /users/{id}", ...], "status": "200", "body": "...", "outside": [...]}
// usage: node try-it-out.mjs <docs URL> <operation element id> <parameter> <value>
//   e.g. node try-it-out.mjs http://127.0.0.1:8000/docs operations-users-get_user id 42
// Exits non-zero (with the reason on stderr) when the page does not get that far.
import { chromium } from 'playwright-core';

const [url, operation, parameter, value] = process.argv.slice(2);
if (!value) {
    console.error('usage: node try-it-out.mjs <docs URL> <operation element id> <parameter> <value>');
    process.exit(64);
}
const deadline = setTimeout(() => {
    console.error('try-it-out: no answer within 90 s');
    process.exit(2);
}, 90_000);

const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
    const context = await browser.newContext();
    const outside = [];
    await context.route('**/*', (route) => {
        const host = new URL(route.request().url()).hostname;
        if (host === '127.0.0.1' || host === 'localhost') return route.continue();
        outside.push(route.request().url());
        return route.abort();
    });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    const operations = await page.$$eval('.opblock-summary', (summaries) =>
        summaries.map((s) => {
            const method = s.querySelector('.opblock-summary-method')?.textContent ?? '?';
            const path = s.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? '?';
            return `${method} ${path}`;
        }));

    const block = page.locator(`#${operation}`);
    await block.locator('.opblock-summary').first().click();
    await block.locator('.try-out__btn').click();
    await block.locator(`tr[data-param-name="${parameter}"] input`).fill(value);
    await block.locator('.execute').click();
    const status = block.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 30_000 });
    const body = await block.locator('.live-responses-table .response .microlight').first().textContent();
    console.log(JSON.stringify({ operations, status: (await status.textContent()).trim(), body, outside, errors }));
} finally {
    clearTimeout(deadline);
    await browser.close();
}
