"""What a page must be at any width, measured in the browser: no sideways scrolling, labelled
progress bars, form errors tied to their fields, flash messages without bullets, visible focus.

Each check returns a list of readable problems (empty when the page is right), so a failing test
names every element at fault at once.
"""

from __future__ import annotations

import re

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

# Wider than the viewport: the document itself, or any element that scrolls sideways inside it
# (a table in an overflow wrapper fits the page but still makes a phone user scroll sideways).
_OVERFLOW = """() => {
  const doc = document.documentElement;
  const problems = [];
  if (doc.scrollWidth > doc.clientWidth) {
    problems.push(`the page is ${doc.scrollWidth}px wide in a ${doc.clientWidth}px viewport`);
  }
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className ? '.' + el.className.trim() : '');
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    const scrolls = ['auto', 'scroll'].includes(style.overflowX);
    if (scrolls && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${name(el)} scrolls sideways (${el.scrollWidth}px in ${el.clientWidth}px)`);
    }
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > doc.clientWidth + 1 && style.position !== 'fixed') {
      let clipped = false;
      for (let up = el.parentElement; up; up = up.parentElement) {
        if (getComputedStyle(up).overflowX !== 'visible') { clipped = true; break; }
      }
      if (!clipped) problems.push(`${name(el)} ends at ${Math.round(box.right)}px`);
    }
  }
  return problems.slice(0, 20);
}"""

# Every <progress> has a label one can see, with text.
_PROGRESS = """() => [...document.querySelectorAll('progress')].flatMap((bar) => {
  const labels = [...bar.labels].filter((l) => l.offsetWidth > 0 && l.innerText.trim());
  return labels.length ? [] : [`progress#${bar.id || '?'} has no visible label`];
})"""

# A field in error says so (aria-invalid) and names its visible message (aria-describedby);
# every message shown is named by the field it belongs to.
_ERRORS = """() => {
  const problems = [];
  const described = new Set();
  for (const el of document.querySelectorAll('[aria-invalid="true"]')) {
    const ids = (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
    const shown = ids.map((id) => document.getElementById(id))
      .filter((m) => m && m.offsetWidth > 0 && m.innerText.trim());
    ids.forEach((id) => described.add(id));
    if (!shown.length) problems.push(`${el.id || el.name} is invalid without a visible message`);
  }
  for (const message of document.querySelectorAll('.field-error')) {
    if (!message.id || !described.has(message.id)) {
      problems.push(`"${message.innerText.trim()}" is not named by an invalid field`);
    }
  }
  return problems;
}"""

# Flash messages are a list for screen readers, but show no bullet.
_FLASH_BULLETS = """() => [...document.querySelectorAll('.flashes li, .flash')].flatMap((li) => {
  const style = getComputedStyle(li);
  const marker = style.display === 'list-item' && style.listStyleType !== 'none';
  const before = getComputedStyle(li, '::before').content;
  return marker || (before && before !== 'none' && before !== 'normal')
    ? [`flash "${li.innerText.trim().slice(0, 40)}" shows a bullet`] : [];
})"""

# On a phone, a table of more than two columns is one block per row: its cells stack.
_STACKED = """() => [...document.querySelectorAll('main table')].flatMap((table) => {
  const row = [...table.querySelectorAll('tbody tr')].find((tr) => tr.cells.length > 2);
  if (!row) return [];
  const tops = [...row.cells].map((cell) => Math.round(cell.getBoundingClientRect().top));
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
  return new Set(tops).size === tops.length ? [] : [`the table ${heads.join('|')} does not stack`];
})"""

# The focused element's ring (outline) and the colour behind it.
FOCUS_RING = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  let back = 'rgba(0, 0, 0, 0)';
  for (let up = el.parentElement; up; up = up.parentElement) {
    const color = getComputedStyle(up).backgroundColor;
    if (!/rgba\\(.*, 0\\)$/.test(color) && color !== 'transparent') { back = color; break; }
  }
  if (back === 'rgba(0, 0, 0, 0)') back = getComputedStyle(document.body).backgroundColor;
  return {
    tag: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' '
      + (el.innerText || el.name || '').trim().slice(0, 30),
    style: style.outlineStyle, width: parseFloat(style.outlineWidth),
    color: style.outlineColor, background: back,
  };
}"""


def problems(page, phone: bool) -> list[str]:
    """Everything wrong with the page as it is now, from the checks above."""
    found = []
    for script in (_OVERFLOW, _PROGRESS, _ERRORS, _FLASH_BULLETS, *([_STACKED] if phone else [])):
        found += page.evaluate(script)
    return found


def rgb(color: str) -> tuple[float, float, float]:
    """The channels of a computed ``rgb(...)`` / ``rgba(...)`` colour."""
    channels = [float(c) for c in re.findall(r"[\d.]+", color)[:3]]
    return channels[0], channels[1], channels[2]


def luminance(color: str) -> float:
    """WCAG relative luminance."""

    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)
