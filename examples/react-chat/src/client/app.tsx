/**
 * The page: the connection badge, the name and room pickers, who is here, the room's messages, the
 * bot's streaming reply and the composer. Each part is a component with the hooks it needs; the
 * room's components are keyed by room, so switching rooms unmounts the old room's subscription,
 * presence and stream, and mounts the new ones.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { ROOMS, type Room } from '../contract.js';
import { Composer } from './composer.js';
import { ConnectionBadge } from './connection-badge.js';
import { Messages } from './messages.js';
import { WhoIsHere } from './who-is-here.js';

export function App({ initialRoom, initialName }: { initialRoom: Room; initialName: string }): ReactNode {
  const [room, setRoom] = useState<Room>(initialRoom);
  const [name, setName] = useState(initialName);
  const [typing, setTyping] = useState(false);

  useEffect(() => {
    const url = new URL(location.href);
    url.searchParams.set('room', room);
    history.replaceState(null, '', url);
    document.title = `#${room} · wirecall chat in React`;
  }, [room]);

  const author = name.trim();
  return (
    <>
      <header className="top">
        <h1>wirecall chat in React</h1>
        <ConnectionBadge />
      </header>
      <main className="chat">
        <section className="controls">
          <label className="name">
            Name
            <input
              data-testid="name"
              value={name}
              maxLength={40}
              spellCheck={false}
              onChange={(event) => setName(event.target.value)}
              onBlur={() => localStorage.setItem('wirecall-chat-name', author)}
            />
          </label>
          <nav className="rooms" aria-label="Rooms">
            {ROOMS.map((id) => (
              <button
                key={id}
                type="button"
                data-testid={`room-${id}`}
                aria-pressed={id === room}
                onClick={() => setRoom(id)}
              >
                #{id}
              </button>
            ))}
          </nav>
        </section>
        <WhoIsHere key={`who-${room}`} room={room} name={author} typing={typing} />
        <Messages key={`messages-${room}`} room={room} me={author} />
        <Composer key={`composer-${room}`} room={room} author={author} onTyping={setTyping} />
      </main>
    </>
  );
}
