// Reads an exported folder's deploy.yaml (written by tools/export.py --format onnx) into the
// plan the worker runs: the ONNX file, input name and size, normalisation, colour order and
// output op. Every error names the file, the key and the fix (the same rules as
// deploy/python/deploy_config.py, restricted to what the page runs: Resize + Normalize).
import { load } from './node_modules/js-yaml/dist/js-yaml.mjs';

export class ModelError extends Error {}

const OUTPUT_OPS = ['softmax', 'argmax', 'none'];
const REEXPORT = 're-export with `python tools/export.py --config CFG --model_path MODEL ' +
                 '--save_dir DIR --format onnx`';

function fail(file, key, msg) { return new ModelError(`${file}: \`${key}\` ${msg}`); }

const isPosInt = (v) => Number.isInteger(v) && v > 0;

// The plan for a parsed deploy.yaml document; `file` names it in messages.
export function planFromDoc(doc, file) {
  if (!doc || typeof doc !== 'object' || typeof doc.Deploy !== 'object' || doc.Deploy === null)
    throw fail(file, 'Deploy', 'section is missing: the file must hold `Deploy: {onnx, ' +
               `transforms, ...}\` (${REEXPORT})`);
  const d = doc.Deploy;
  if (typeof d.onnx !== 'string')
    throw fail(file, 'Deploy.onnx', `is missing: this folder has no ONNX model, which the page ` +
               `needs (${REEXPORT})`);
  const outputOp = d.output_op === null ? 'none' : String(d.output_op ?? 'argmax');
  if (!OUTPUT_OPS.includes(outputOp))
    throw fail(file, 'Deploy.output_op', `must be one of ${OUTPUT_OPS.join(', ')}; got ${outputOp}`);
  const colorOrder = d.color_order ?? 'RGB';
  if (colorOrder !== 'RGB' && colorOrder !== 'BGR')
    throw fail(file, 'Deploy.color_order', `must be RGB or BGR; got ${colorOrder}`);
  const shape = (d.input_shape ?? [-1, 3, -1, -1]).map((v) => (v === null ? -1 : v));
  if (shape.length !== 4 || !shape.every((v) => Number.isInteger(v) && (v > 0 || v === -1)))
    throw fail(file, 'Deploy.input_shape', `must be [N, C, H, W] of ints (-1 = dynamic); got ` +
               JSON.stringify(d.input_shape));
  let netSize = shape[2] > 0 && shape[3] > 0 ? [shape[3], shape[2]] : null;
  let mean = [0.5, 0.5, 0.5], std = [0.5, 0.5, 0.5], normalized = false;
  const transforms = d.transforms ?? [];
  if (!Array.isArray(transforms)) throw fail(file, 'Deploy.transforms', 'must be a list');
  transforms.forEach((t, i) => {
    const key = `Deploy.transforms[${i}]`;
    const type = t && t.type;
    if (type === 'Resize') {
      const size = t.target_size ?? [512, 512];
      if (!Array.isArray(size) || size.length !== 2 || !size.every(isPosInt))
        throw fail(file, `${key}.target_size`, `must be [width, height] of positive ints; got ` +
                   JSON.stringify(size));
      if (t.keep_ratio || t.size_divisor)
        throw fail(file, key, 'is a Resize with keep_ratio or size_divisor, which the web page ' +
                   'does not run: export with a fixed Resize target_size (the page letterboxes ' +
                   'frames to its aspect ratio)');
      if ((t.interp ?? 'LINEAR') !== 'LINEAR')
        throw fail(file, `${key}.interp`, `is ${t.interp}; the web page resizes bilinearly ` +
                   '(LINEAR): export with interp LINEAR');
      netSize = [size[0], size[1]];
    } else if (type === 'Normalize') {
      mean = t.mean ?? mean;
      std = t.std ?? std;
      for (const [name, v] of [['mean', mean], ['std', std]]) {
        if (!Array.isArray(v) || ![1, 3].includes(v.length) || !v.every((x) => typeof x === 'number'))
          throw fail(file, `${key}.${name}`, `must be a list of 1 or 3 numbers; got ${JSON.stringify(v)}`);
      }
      if (std.some((s) => s === 0)) throw fail(file, `${key}.std`, 'must not contain 0');
      if (mean.length === 1) mean = [mean[0], mean[0], mean[0]];
      if (std.length === 1) std = [std[0], std[0], std[0]];
      normalized = true;
    } else {
      throw fail(file, `${key}.type`, `is ${JSON.stringify(type)}, which the web page does not ` +
                 'run; it runs Resize (a fixed target_size) and Normalize: export with those');
    }
  });
  if (!netSize)
    throw fail(file, 'Deploy.transforms', 'has no Resize and input_shape is dynamic: the page ' +
               'needs a fixed network size (export with a Resize target_size)');
  if (!normalized) { mean = [0, 0, 0]; std = [1 / 255, 1 / 255, 1 / 255]; }
  return {
    onnx: d.onnx, inputName: String(d.input_name ?? 'x'), netSize, aspect: netSize[0] / netSize[1],
    mean, std, colorOrder, outputOp, numClasses: d.num_classes ?? null,
  };
}

// Fetch and read `modelUrl` + 'deploy.yaml'; the plan gets `onnxUrl`.
export async function loadPlan(modelUrl) {
  const base = new URL(modelUrl.endsWith('/') ? modelUrl : `${modelUrl}/`, self.location.href);
  const file = new URL('deploy.yaml', base).href;
  let res;
  try {
    res = await fetch(file);
  } catch (e) {
    throw new ModelError(`${file}: cannot be fetched (${e.message}); is the server running?`);
  }
  if (!res.ok)
    throw new ModelError(`${file}: HTTP ${res.status}: the model folder has no deploy.yaml; ` +
                         'serve a folder written by tools/export.py --format onnx ' +
                         '(python tools/serve_web.py --model_dir DIR)');
  let doc;
  try {
    doc = load(await res.text());
  } catch (e) {
    throw new ModelError(`${file} is not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const plan = planFromDoc(doc, file);
  plan.onnxUrl = new URL(plan.onnx, base).href;
  plan.file = file;
  return plan;
}
