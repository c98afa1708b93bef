import type { ChannelName } from '../../../shared/api';
import type { Handler } from '../api-handlers';
import type { Core } from '../core';

type ChatChannel = Extract<ChannelName, `chat.${string}`>;

/** The chat channels of the contract, bound to the chat service. */
export function createChatHandlers(core: Pick<Core, 'chat'>): { [C in ChatChannel]: Handler<C> } {
  return {
    'chat.list': ({ photoId }) => core.chat.list(photoId),
    'chat.new': ({ photoId }) => core.chat.newChat(photoId),
    'chat.send': ({ photoId, chatId, text, route }) => {
      const { model: _model, ...reply } = core.chat.send({ photoId, text, route, ...(chatId !== undefined ? { chatId } : {}) });
      return reply;
    },
    'chat.stop': ({ assistantMessageId }) => {
      core.chat.stop(assistantMessageId);
      return { ok: true as const };
    },
    'chat.testBackend': ({ backend, baseUrl, model }) =>
      core.chat.testBackend({
        ...(backend ? { chatBackend: backend } : {}),
        ...(baseUrl ? { engineBaseUrl: baseUrl } : {}),
        ...(model ? { engineModel: model } : {}),
      }),
  };
}
