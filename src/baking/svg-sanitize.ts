// Removes from an SVG document what could run script when the image is opened on its own (not through <img>).
//
// Achievement images are screened at upload; this is the second line, applied to every SVG Lanyard bakes. It is a
// deny-list over names, compared without namespace or case, so an XHTML <script> or an <ns:onload> goes too.
import { ProcessingInstruction, type Document, type Element } from '@xmldom/xmldom'

/** Script, and the elements that embed another document (which may hold script of its own). */
const SCRIPTING_ELEMENTS = new Set(['script', 'foreignobject', 'iframe', 'embed', 'object'])
/** SVG animation can set an href after load, past any check of the attribute's first value. */
const ANIMATIONS = new Set(['animate', 'set'])

const localName = (node: { nodeName: string }): string => node.nodeName.slice(node.nodeName.indexOf(':') + 1).toLowerCase()

/** As a browser's URL parser reads a scheme: tabs and newlines anywhere and leading controls or spaces are ignored. */
function isJavaScriptUrl(value: string): boolean {
  return /^[\0- ]*javascript:/i.test(value.replace(/[\t\n\r]/g, ''))
}

function runsScript(element: Element): boolean {
  const name = localName(element)
  return SCRIPTING_ELEMENTS.has(name) || (ANIMATIONS.has(name) && /^\s*(?:[\w.-]+:)?href\s*$/i.test(String(element.getAttribute('attributeName'))))
}

function removeScriptingAttributes(element: Element): void {
  for (const attribute of Array.from(element.attributes)) {
    const name = localName(attribute)
    if (name.startsWith('on') || (name === 'href' && isJavaScriptUrl(attribute.value))) element.removeAttributeNode(attribute)
  }
}

export function sanitizeSvg(document: Document): void {
  // An xml-stylesheet instruction can apply XSLT, which can write script; the XML declaration is the one kept.
  for (const node of Array.from(document.childNodes)) {
    if (node instanceof ProcessingInstruction && node.target !== 'xml') document.removeChild(node)
  }
  for (const element of Array.from(document.getElementsByTagName('*'))) {
    if (runsScript(element)) element.parentNode!.removeChild(element)
    else removeScriptingAttributes(element)
  }
}
