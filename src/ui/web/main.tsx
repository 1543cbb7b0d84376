/** The web console in the browser: a page per hash route, each loading from the API. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { WorkspacePage } from './workspace.tsx';
import { GroupPage } from './group.tsx';
import { WizardPage } from './wizard.tsx';
import './style.css';

function route(): string[] {
  return location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
}

function App() {
  const [parts, setParts] = useState(route());
  useEffect(() => {
    const on = () => setParts(route());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const [page, id, tab] = parts;
  return (
    <>
      <header>
        <a href="#/" class="brand">
          tpa console
        </a>
        <nav>
          <a href="#/">Workspace</a>
          <a href="#/new">New group</a>
        </nav>
      </header>
      <main>
        {page === 'new' ? (
          <WizardPage />
        ) : page === 'g' && id ? (
          <GroupPage id={id} tab={tab ?? 'overview'} />
        ) : (
          <WorkspacePage />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
