/* Copying the bot's words, for staff to paste into a chat or read out. */

import { $, button, showToast } from "./dom.js";

/* The clipboard API where the page may use it; otherwise (plain http on
 * another host, permission refused) a selected textarea and execCommand.
 * The textarea keeps the last text copied either way. */
async function copyText(text) {
  const buffer = $("#copy-buffer");
  buffer.value = text;
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (_) {
    buffer.focus();
    buffer.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (_) {
      copied = false;
    }
    buffer.blur();
    return copied;
  }
}

export function copyButton(className, label, getText) {
  const node = button(className, label, async () => {
    const copied = await copyText(getText());
    node.dataset.copied = copied ? "yes" : "no";
    const original = label;
    node.textContent = copied ? "Đã sao chép ✓" : "Không sao chép được";
    showToast(copied ? "Đã sao chép" : "Không sao chép được, hãy chọn và sao chép thủ công.");
    clearTimeout(node.timer);
    node.timer = setTimeout(() => {
      node.textContent = original;
    }, 2000);
  });
  return node;
}
