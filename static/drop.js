// What was dropped on the page, as files with their paths: folders are walked (the File and
// Directory Entries API, where the browser has it), so two dropped TF.js model folders keep
// their same-named shards apart ("encoder_model/group1-shard1of1.bin"). Returns [{file, path}].
export async function droppedFiles(dataTransfer) {
  const entries = [...(dataTransfer?.items || [])].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) return [...(dataTransfer?.files || [])].map((file) => ({ file, path: file.name }));
  const out = [];
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      out.push({ file, path: prefix + entry.name });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) { // readEntries gives a directory's entries in batches until an empty one
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const entry of entries) await walk(entry, "");
  return out;
}

// Whether dropped files are a model (bundle or TF.js files) rather than sounds.
export function isModelDrop(items) {
  return items.length > 0 && items.some(({ path }) => /\.(json|onnx)$/i.test(path))
    && items.every(({ path }) => /\.(json|onnx|bin|data)$/i.test(path));
}
