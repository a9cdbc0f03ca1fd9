import type { Properties } from '../types';
/**
 * A CSS selector for `el` that stays the same across page loads: a stable
 * id or a data attribute that is unique in the document anchors it;
 * otherwise it is the path of tags from `body`, with `:nth-of-type` where
 * siblings share a tag.
 */
export declare function selectorOf(el: Element): string;
/** Form fields and editable regions: what is in them was typed or chosen by a person. */
export declare function isField(el: Element): boolean;
/**
 * Visible text of `el`, whitespace collapsed, at most 255 characters. Reads
 * text nodes only until it has enough (a click on a large container must not
 * copy the whole page), and never reads inside form fields, editable
 * regions, scripts or styles. `<input>` values are never read: inputs have
 * no text nodes.
 */
export declare function textOf(el: Element): string;
/** The element a click was meant for: the clickable ancestor of `target`, or the target. */
export declare function clickedElement(target: Element): Element;
export declare function isControl(el: Element): boolean;
/** What is recorded about a clicked element: `selector`, `tag`, `text`, `href`. */
export declare function describe(el: Element): Properties;
