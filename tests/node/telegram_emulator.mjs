// Starts the Telegram Bot API emulator (npm: telegram-test-api) for the integration tests.
//   node telegram_emulator.mjs [--port N]   prints "listening PORT" once it serves.
// Bots call it as the Bot API (/bot<token>/getUpdates, /sendMessage); tests act as users through
// its client API: POST /sendMessage {message…, botToken} and POST /getUpdates {token, chatId}.
import TelegramServer from 'telegram-test-api';

const args = process.argv.slice(2);
const portArg = args.indexOf('--port');
const port = portArg >= 0 ? Number(args[portArg + 1]) : 0;

const server = new TelegramServer({ port: port || 0, host: '127.0.0.1', storeTimeout: 600 });
await server.start();
process.stdout.write(`listening ${server.server.address().port}\n`);
process.on('SIGTERM', async () => { await server.stop(); process.exit(0); });
