import { useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { commands, events } from "./bindings";
import type { CommandError, Settings, Theme } from "./bindings";
import { ErrorView } from "./ErrorView";
import { PracticePanel } from "./PracticePanel";
import { isCommandError, bridgeError, unwrap } from "./result";
import { useLoad } from "./useLoad";

/** The desktop window: store, identity picker, the identity's practices, one practice. */
export function App() {
  const queries = useQueryClient();
  const [selected, setSelected] = useState<string | null>(null);
  const info = useLoad(() => unwrap(commands.storeInfo()), ["info"]);
  const settings = useLoad(() => unwrap(commands.settingsGet()), ["settings"]);
  const identity = settings.data?.identity ?? null;
  const practices = useLoad(
    () =>
      identity === null
        ? Promise.resolve(null)
        : Promise.all([unwrap(commands.listPractices()), unwrap(commands.practiceDirectory())]),
    ["practices", identity],
  );

  useEffect(() => {
    const stops = [
      events.storeChanged.listen(() => {
        setSelected(null);
        void queries.invalidateQueries();
      }),
      events.eventsAppended.listen(() => void queries.invalidateQueries({ queryKey: ["practices"] })),
    ];
    return () => stops.forEach((stop) => void stop.then((unlisten) => unlisten()));
  }, [queries]);

  useEffect(() => {
    document.documentElement.dataset.theme = settings.data?.theme ?? "system";
  }, [settings.data?.theme]);

  const save = async (next: Settings, storePassword: string | null = null) => {
    await unwrap(commands.settingsSet(next, storePassword));
    await queries.invalidateQueries();
  };

  const names = new Map(
    (practices.data?.[1] ?? []).map((listing) => [listing.practiceId, listing.name]),
  );

  return (
    <div className="app">
      <header className="topbar">
        <h1>Chronicle</h1>
        {info.data && (
          <span className="store" data-testid="store-location">
            {info.data.backend} · {info.data.location}
          </span>
        )}
        {settings.data && info.data && (
          <IdentityPicker
            current={identity}
            suggestions={info.data.suggestedIdentities}
            onPick={(id) => save({ ...settings.data!, identity: id })}
          />
        )}
        {settings.data && (
          <select
            aria-label="Theme"
            value={settings.data.theme}
            onChange={(e) => void save({ ...settings.data!, theme: e.target.value as Theme })}
          >
            <option value="system">System theme</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        )}
      </header>
      <div className="banner" data-testid="acting-as">
        {identity ? (
          <>
            Viewing as <strong>{identity}</strong>
            {selected && (
              <>
                {" "}
                in <strong>{names.get(selected) ?? selected}</strong>
              </>
            )}
          </>
        ) : (
          "Choose who to view as to see their practices."
        )}
      </div>
      {info.error && <ErrorView title="The store could not be read" error={info.error} />}
      {info.data?.startupError && (
        <ErrorView
          title="The saved store could not be opened; the embedded store is open instead"
          error={info.data.startupError}
        />
      )}
      {info.data?.isEmpty && <DemoOffer onSeeded={() => void queries.invalidateQueries()} />}
      <main className="layout">
        <aside className="practices">
          <h2>Practices</h2>
          {identity === null && <p className="muted">No identity chosen.</p>}
          {practices.error && <ErrorView error={practices.error} />}
          {practices.loading && !practices.data && <p className="muted">Loading…</p>}
          {practices.data && practices.data[0].length === 0 && (
            <p className="muted" data-testid="no-practices">
              {identity} is not a member of any practice.
            </p>
          )}
          <ul data-testid="practice-list">
            {practices.data?.[0].map((p) => (
              <li key={p.practiceId}>
                <button
                  className={p.practiceId === selected ? "practice selected" : "practice"}
                  data-testid="practice"
                  onClick={() => {
                    setSelected(p.practiceId);
                    if (settings.data) {
                      const recent = [
                        p.practiceId,
                        ...(settings.data.recentPractices ?? []).filter((id) => id !== p.practiceId),
                      ];
                      void save({ ...settings.data, recentPractices: recent });
                    }
                  }}
                >
                  <span className="name">{names.get(p.practiceId) ?? p.practiceId}</span>
                  <span className="meta">
                    {p.role ?? "system"} · {p.eventCount} events
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </aside>
        <section className="detail">
          {selected ? (
            <PracticePanel key={selected} practiceId={selected} />
          ) : (
            <p className="muted">Pick a practice to see its history.</p>
          )}
        </section>
      </main>
      {settings.data && <StoreSettings settings={settings.data} onSave={save} />}
    </div>
  );
}

function IdentityPicker(props: {
  current: string | null;
  suggestions: string[];
  onPick: (id: string | null) => Promise<void>;
}) {
  const [text, setText] = useState(props.current ?? "");
  const [error, setError] = useState<CommandError | null>(null);
  const pick = async () => {
    try {
      await props.onPick(text.trim() === "" ? null : text.trim());
      setError(null);
    } catch (reason) {
      setError(isCommandError(reason) ? reason : bridgeError(reason));
    }
  };
  return (
    <form
      className="identity"
      onSubmit={(e) => {
        e.preventDefault();
        void pick();
      }}
    >
      <label htmlFor="identity">View as</label>
      <input
        id="identity"
        data-testid="identity-input"
        list="identity-suggestions"
        placeholder="user id"
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <datalist id="identity-suggestions">
        {props.suggestions.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      <button type="submit" data-testid="identity-apply">
        Apply
      </button>
      {error && <ErrorView error={error} />}
    </form>
  );
}

function DemoOffer({ onSeeded }: { onSeeded: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  return (
    <div className="offer" data-testid="demo-offer">
      <p>This store is empty. Load demo data (three dental practices) to have something to inspect?</p>
      <button
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await unwrap(commands.seedDemo());
            onSeeded();
          } catch (reason) {
            setError(isCommandError(reason) ? reason : bridgeError(reason));
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? "Loading demo data…" : "Load demo data"}
      </button>
      {error && <ErrorView error={error} />}
    </div>
  );
}

function StoreSettings(props: {
  settings: Settings;
  onSave: (next: Settings, storePassword: string | null) => Promise<void>;
}) {
  const [location, setLocation] = useState(props.settings.storeLocation ?? "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<CommandError | null>(null);
  const [saved, setSaved] = useState(false);
  return (
    <details className="settings">
      <summary>Store location</summary>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await props.onSave(
              { ...props.settings, storeLocation: location.trim() === "" ? null : location.trim() },
              password === "" ? null : password,
            );
            setError(null);
            setSaved(true);
            setPassword("");
          } catch (reason) {
            setSaved(false);
            setError(isCommandError(reason) ? reason : bridgeError(reason));
          }
        }}
      >
        <label>
          Location (empty: the embedded store)
          <input
            data-testid="store-location-input"
            placeholder="sqlite:///path/to/file.db or postgres://user@host/db"
            value={location}
            onChange={(e) => setLocation(e.target.value)}
          />
        </label>
        <label>
          PostgreSQL password (kept for this session only, never saved)
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <button type="submit">Open</button>
        {saved && <span className="muted">Opened.</span>}
        {error && <ErrorView title="That store could not be opened; the old one stays open" error={error} />}
      </form>
    </details>
  );
}
