/**
 * Who has the room open, and who is typing: `usePresence` observes the room's members and joins
 * with this page's name and typing flag (a change of either updates the member; leaving the room
 * or closing the page leaves it).
 */
import type { ReactNode } from 'react';
import type { Room } from '../contract.js';
import { usePresence } from './wirecall.js';

export function WhoIsHere({ room, name, typing }: { room: Room; name: string; typing: boolean }): ReactNode {
  const presence = usePresence('message', {
    params: { room },
    join: name === '' ? undefined : { name, typing },
  });
  const typists = presence.members.filter((member) => member.data.typing && member.key !== presence.me);
  return (
    <aside className="presence" aria-label="Who is here">
      <ul className="online" data-testid="online" data-count={presence.count}>
        {presence.members.map((member) => (
          <li key={member.key} data-me={member.key === presence.me ? '' : undefined}>
            {member.data.name}
          </li>
        ))}
      </ul>
      <p className="typing" data-testid="typing" aria-live="polite">
        {typists.length === 0
          ? ''
          : `${typists.map((member) => member.data.name).join(', ')} ${typists.length === 1 ? 'is' : 'are'} typing…`}
      </p>
    </aside>
  );
}
