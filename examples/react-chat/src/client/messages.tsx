/**
 * The room's messages: the `history` query, kept current by the room's `message` events, which
 * `useEventToQuery` appends to the query's data (no refetch per message). A gap (the server lost
 * events while the page was away: it restarted) invalidates the query, which refetches what the
 * server still has, and shows a notice.
 */
import { useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import type { Message, Room } from '../contract.js';
import { useEventToQuery, useWirecall } from './wirecall.js';

/** As many as the server keeps per room. */
const KEPT = 200;

/** The history with one more message, once (a replayed event may already be in a refetched list). */
function withMessage(messages: Message[] | undefined, message: Message): Message[] | undefined {
  if (messages === undefined || messages.some(({ id }) => id === message.id)) return messages;
  return [...messages, message].slice(-KEPT);
}

export function Messages({ room, me }: { room: Room; me: string }): ReactNode {
  const wc = useWirecall();
  const [gap, setGap] = useState(false);
  // Before useQuery: the subscription is sent before the history is fetched, so no message can
  // fall between the two.
  useEventToQuery(
    'message',
    { room },
    {
      queryKey: wc.history.queryKey({ room }),
      update: withMessage,
      onGap: () => setGap(true),
    },
  );
  const history = useQuery(wc.history.queryOptions({ room }));

  return (
    <>
      {gap && (
        <div className="notice" data-testid="gap" role="status">
          <span>
            Some messages in #{room} could not be recovered: the server lost them while you were away (it restarted, or
            they fell out of its history). Showing everything it still has.
          </span>
          <button type="button" aria-label="Dismiss" onClick={() => setGap(false)}>
            ×
          </button>
        </div>
      )}
      <ol className="messages" data-testid="messages" data-status={history.status} aria-live="polite">
        {history.data?.map((message) => (
          <li
            key={message.id}
            className={message.author === me ? 'message own' : 'message'}
            data-testid="message"
            data-id={message.id}
          >
            <time
              dateTime={message.at.toISOString()}
              data-type={message.at instanceof Date ? 'Date' : typeof message.at}
            >
              {message.at.toLocaleTimeString()}
            </time>
            <span className="author">{message.author}</span>
            <span className="text">{message.text}</span>
          </li>
        ))}
      </ol>
      {history.data?.length === 0 && <p className="empty">No messages in this room yet.</p>}
    </>
  );
}
