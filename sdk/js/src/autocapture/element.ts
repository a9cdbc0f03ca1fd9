import type { Properties } from '../types';

/** Test and tracking attributes teams put on elements precisely to name them. */
const DATA_ATTRIBUTES = ['data-px', 'data-testid', 'data-test', 'data-cy', 'data-qa'];

const MAX_TEXT = 255;

/** Elements a person clicks on purpose; a click inside one is a click on it. */
const CLICKABLE =
  'a,button,input,select,textarea,label,summary,[role=button],[role=link],[role=menuitem],[role=tab],[role=checkbox],[role=switch],[role=option]';

/** Controls whose click should visibly do something (the dead-click candidates). */
const CONTROLS =
  'a[href],button,input[type=button],input[type=submit],input[type=reset],input[type=image],summary,[role=button],[role=link],[role=menuitem],[role=tab]';

/** Types of `<input>` that are pressed rather than typed into. */
const PRESSED_INPUT = /^(button|submit|reset|image|checkbox|radio|file|color|range)$/;

function escapeIdent(s: string): string {
  return typeof CSS !== 'undefined' && CSS.escape ? CSS.escape(s) : s.replace(/[^\w-]/g, (c) => '\\' + c);
}

/**
 * Ids that frameworks generate (React's `:r1:`, `ember123`, `mui-51234`)
 * change between builds or renders, so selectors built on them would split
 * one button into many.
 */
function stableId(id: string): boolean {
  return /^[A-Za-z][\w-]*$/.test(id) && !/\d{3,}/.test(id);
}

function isUnique(selector: string): boolean {
  try {
    return document.querySelectorAll(selector).length === 1;
  } catch {
    return false;
  }
}

function nthOfType(el: Element): string {
  const parent = el.parentElement;
  if (!parent) return '';
  let index = 0;
  let count = 0;
  for (let sib = parent.firstElementChild; sib; sib = sib.nextElementSibling) {
    if (sib.tagName === el.tagName) {
      count++;
      if (sib === el) index = count;
    }
  }
  return count > 1 ? `:nth-of-type(${index})` : '';
}

/**
 * A CSS selector for `el` that stays the same across page loads: a stable
 * id or a data attribute that is unique in the document anchors it;
 * otherwise it is the path of tags from `body`, with `:nth-of-type` where
 * siblings share a tag.
 */
export function selectorOf(el: Element): string {
  const parts: string[] = [];
  for (let node: Element | null = el; node; node = node.parentElement) {
    const tag = node.tagName.toLowerCase();
    if (tag === 'body' || tag === 'html') {
      parts.unshift('body');
      break;
    }
    const id = node.getAttribute('id');
    if (id && stableId(id) && isUnique('#' + escapeIdent(id))) {
      parts.unshift('#' + escapeIdent(id));
      break;
    }
    const attr = DATA_ATTRIBUTES.find((a) => node!.hasAttribute(a));
    if (attr) {
      const sel = `[${attr}="${node.getAttribute(attr)!.replace(/["\\]/g, '\\$&')}"]`;
      if (isUnique(sel)) {
        parts.unshift(sel);
        break;
      }
    }
    parts.unshift(tag + nthOfType(node));
  }
  return parts.join(' > ');
}

/** Form fields and editable regions: what is in them was typed or chosen by a person. */
export function isField(el: Element): boolean {
  const tag = el.tagName;
  return (
    tag === 'TEXTAREA' ||
    tag === 'SELECT' ||
    tag === 'OPTION' ||
    (tag === 'INPUT' && !PRESSED_INPUT.test((el as HTMLInputElement).type)) ||
    (el as HTMLElement).isContentEditable === true
  );
}

/**
 * Visible text of `el`, whitespace collapsed, at most 255 characters. Reads
 * text nodes only until it has enough (a click on a large container must not
 * copy the whole page), and never reads inside form fields, editable
 * regions, scripts or styles. `<input>` values are never read: inputs have
 * no text nodes.
 */
export function textOf(el: Element): string {
  if (isField(el)) return '';
  let text = '';
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      if (node.nodeType === Node.TEXT_NODE) return NodeFilter.FILTER_ACCEPT;
      const tag = (node as Element).tagName;
      return tag === 'SCRIPT' || tag === 'STYLE' || isField(node as Element)
        ? NodeFilter.FILTER_REJECT
        : NodeFilter.FILTER_SKIP;
    },
  });
  while (text.length <= MAX_TEXT * 2 && walker.nextNode()) {
    text += ' ' + walker.currentNode.nodeValue!.slice(0, MAX_TEXT * 2);
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, MAX_TEXT);
}

/** The element a click was meant for: the clickable ancestor of `target`, or the target. */
export function clickedElement(target: Element): Element {
  return target.closest(CLICKABLE) ?? target;
}

export function isControl(el: Element): boolean {
  return el.matches(CONTROLS);
}

/** What is recorded about a clicked element: `selector`, `tag`, `text`, `href`. */
export function describe(el: Element): Properties {
  const props: Properties = { selector: selectorOf(el), tag: el.tagName.toLowerCase() };
  const text = textOf(el);
  if (text) props.text = text;
  const link = el.closest('a[href]') as HTMLAnchorElement | null;
  if (link) props.href = link.href;
  return props;
}
