// Entry of the browser bundle (src/build-web.ts bundles it with its stylesheet).
import './styles.css';
import { html, render } from 'htm/preact';
import { App } from './app.js';

render(html`<${App} />`, document.getElementById('app')!);
