export { BINARY_SUBPROTOCOL, bearerSubprotocol, FWD_SUBPROTOCOL, TARGET_PARAM } from './protocol.js';
export { redactUrl } from './redact-url.js';
export {
  loadTokenFile,
  MIN_TOKEN_LENGTH,
  parseTokenList,
  type TokenVerifier,
  tokenVerifier,
} from './relay-auth.js';
export type { Relay, RelayCloseOptions, RelayLogEvent, RelayOptions, RelayStats } from './relay-options.js';
export { startRelay } from './relay-server.js';
export { type WebsocketTransportOptions, websocketTransport } from './ws-transport.js';
