// The web-chat example in a real browser (headless Chromium, driven by playwright-core, using the
// system's Chromium from Debian's package): chat, watch the tool call, switch clouds, ask the name,
// reload, and find the transcript again. Saves docs/web-chat.png, the screenshot in the README.
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebChat, type WebChat } from '../../examples/web-chat/server.js';
import { memoryStore } from '../../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('../../docs/web-chat.png', import.meta.url));

function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const reason = `Chromium is not installed (${CHROMIUM} is missing)`;
  if (process.env.CLOUDHOP_REQUIRE_SERVICES === '1') {
    throw new Error(`${reason}; CLOUDHOP_REQUIRE_SERVICES=1 requires it.`);
  }
  console.warn(
    `Skipping the browser test of examples/web-chat: ${reason}. Run \`apt-get install chromium\` to run it.`,
  );
  return false;
}

describe.skipIf(!chromiumAvailable())('the web-chat example in headless Chromium', () => {
  let chat: WebChat;
  let browser: Browser;
  const store = memoryStore();
  beforeAll(async () => {
    chat = await startWebChat({ port: 0, store });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await chat?.close();
  });

  /** Sends a message to a cloud and waits until the page has read the whole answer. */
  async function say(page: Page, cloud: string, text: string): Promise<void> {
    await page.check(`input[name="cloud"][value="${cloud}"]`);
    await page.fill('#message', text);
    const answered = page.waitForResponse((response) => response.url().endsWith('/api/chat'));
    await page.click('#send');
    const response = await answered;
    expect(response.headers()['x-vercel-ai-ui-message-stream']).toBe('v1');
    await response.finished();
    await page.waitForSelector('#send:not([disabled])');
  }

  const assistantTexts = (page: Page) =>
    page.$$eval('.message.assistant', (boxes) =>
      boxes.map((box) => [...box.querySelectorAll('p')].map((p) => p.textContent).join(' ')),
    );
  const via = (page: Page) =>
    page.$$eval('.message.assistant .via', (labels) =>
      labels.map((label) => [label.textContent, (label as any).dataset.runtimeId]),
    );

  it('chats, shows the tool call, switches clouds, and shows the transcript again after a reload', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 860 } });
    await page.goto(chat.url);
    await page.waitForSelector('.empty');

    await say(page, 'azure', 'Hi, my name is Ada.');
    expect(await assistantTexts(page)).toEqual([expect.stringMatching(/^Nice to meet you, Ada\./)]);

    await say(page, 'frontier', 'Use get_weather for Paris.');
    const toolBox = await page.textContent('.tool[data-tool="get_weather"]');
    expect(toolBox).toContain('{"city":"Paris"}');
    expect(toolBox).toContain('"tempC":21');

    await say(page, 'bedrock', 'What is my name?');
    expect((await assistantTexts(page)).at(-1)).toBe('Your name is Ada.');
    const streamedVia = await via(page);
    expect(streamedVia).toEqual([
      ['via Azure chat · gpt-4o', expect.stringMatching(/^azure-chat:/)],
      ['via AWS frontier · openai.gpt-oss-120b', expect.stringMatching(/^frontier:/)],
      ['via AWS Bedrock Converse · openai.gpt-oss-20b-1:0', expect.stringMatching(/^bedrock-converse:/)],
    ]);
    const streamedTexts = await assistantTexts(page);

    const chatId = await page.evaluate(() => (globalThis as any).localStorage.getItem('cloudhop-chat'));
    expect((await store.load({ namespace: 'default', sessionId: chatId! }))?.version).toBeGreaterThan(6);

    await page.reload();
    await page.waitForSelector('.message.assistant');
    const users = await page.$$eval('.message.user p', (ps) => ps.map((p) => p.textContent));
    expect(users).toEqual(['Hi, my name is Ada.', 'Use get_weather for Paris.', 'What is my name?']);
    expect(await assistantTexts(page)).toEqual(streamedTexts);
    expect(await via(page)).toEqual(streamedVia);
    expect(await page.textContent('.tool[data-tool="get_weather"]')).toBe(toolBox);

    mkdirSync(fileURLToPath(new URL('../../docs/', import.meta.url)), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    await page.close();
  }, 60_000);
});
