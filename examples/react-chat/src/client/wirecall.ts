/**
 * The app's wirecall hooks, typed by the chat's contract: made once, imported by every component.
 */
import { createWirecallContext } from '@wirecall/react';
import type { Api } from '../contract.js';

export const { WirecallProvider, useWirecall, useEventToQuery, usePresence, useConnection } =
  createWirecallContext<Api>();
