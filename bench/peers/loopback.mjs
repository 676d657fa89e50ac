// Preloaded into the Portkey gateway (node --import ./loopback.mjs …): its start-server passes
// no hostname to listen(), which would bind every interface; this pins such listens to
// 127.0.0.1 so the benchmark serves on loopback only.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (args[1] === undefined || args[1] === null || typeof args[1] === 'function') {
      if (typeof args[1] === 'function') args.splice(1, 0, '127.0.0.1');
      else args[1] = '127.0.0.1';
    }
  } else if (args[0] && typeof args[0] === 'object' && args[0].path === undefined && !args[0].host) {
    args[0] = { ...args[0], host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
