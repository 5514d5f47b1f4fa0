/**
 * Sending: a message is a mutation (`send`); `/bot <question>` asks the bot, whose answer streams
 * in token by token (`useStream` over the `ask` procedure) and then lands in the room as a message,
 * through the same event as any other. A refused message shows its typed error (BAD_REQUEST with
 * zod's issue) and stays in the input to fix.
 */
import { skipToken, useMutation } from '@tanstack/react-query';
import { useStream } from '@wirecall/react';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { Room } from '../contract.js';
import { useWirecall } from './wirecall.js';

/** A typist who pauses this long is no longer typing. */
const TYPING_PAUSE_MS = 2_000;

interface ShownError {
  code: string;
  message: string;
  data?: unknown;
}

/** The error's code, and zod's issue messages for BAD_REQUEST (else its message). */
function describe(error: ShownError): { code: string; text: string } {
  const issues = (error.data as { issues?: { path?: PropertyKey[]; message?: string }[] } | undefined)?.issues;
  if (!Array.isArray(issues) || issues.length === 0) return { code: error.code, text: error.message };
  const text = issues
    .map((issue) => {
      const path = (issue.path ?? []).map(String).join('.');
      return path === '' ? String(issue.message) : `${path}: ${String(issue.message)}`;
    })
    .join('; ');
  return { code: error.code, text };
}

export function Composer({
  room,
  author,
  onTyping,
}: {
  room: Room;
  author: string;
  onTyping: (typing: boolean) => void;
}): ReactNode {
  const wc = useWirecall();
  const [text, setText] = useState('');
  const send = useMutation(wc.send.mutationOptions());
  const reply = useStream(wc.ask.streamOptions(skipToken));
  const typingTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const stoppedTyping = (): void => {
    clearTimeout(typingTimer.current);
    typingTimer.current = undefined;
    onTyping(false);
  };
  useEffect(() => () => clearTimeout(typingTimer.current), []);

  const submit = (): void => {
    stoppedTyping();
    if (text.startsWith('/bot ')) {
      setText('');
      send.reset();
      reply.start({ room, author, question: text.slice('/bot '.length) });
      return;
    }
    // No check here: the client checks the input against the contract before sending (as the
    // server would) and the mutation fails with BAD_REQUEST and zod's issues.
    const sent = text;
    send.mutate(
      { room, author, text: sent },
      { onSuccess: () => setText((current) => (current === sent ? '' : current)) },
    );
  };

  const failure = send.error ?? (reply.status === 'error' ? reply.error : null);
  const shown = failure === null ? undefined : describe(failure);
  return (
    <>
      <p
        className="bot-reply"
        data-testid="bot-reply"
        data-state={reply.status}
        aria-live="polite"
        hidden={reply.status !== 'streaming'}
      >
        {reply.items.map((item) => item.token).join('')}
      </p>
      <div className="error" data-testid="error" role="alert" hidden={shown === undefined}>
        <code data-testid="error-code">{shown?.code}</code> <span data-testid="error-message">{shown?.text}</span>
      </div>
      <form
        className="composer"
        autoComplete="off"
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
      >
        <input
          data-testid="message-input"
          placeholder="Say something (1 to 280 characters), or ask the bot: /bot …"
          value={text}
          onChange={(event) => {
            setText(event.target.value);
            if (typingTimer.current === undefined) onTyping(true);
            clearTimeout(typingTimer.current);
            typingTimer.current = setTimeout(stoppedTyping, TYPING_PAUSE_MS);
          }}
        />
        <button type="submit" data-testid="send">
          Send
        </button>
      </form>
    </>
  );
}
