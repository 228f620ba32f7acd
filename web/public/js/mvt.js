// A reader for Mapbox Vector Tiles (2.1), enough for Trygg's hexagon
// tiles and any other well-formed tile: layers, their key and value
// tables, and features with their geometry as rings of tile units. The
// protobuf it needs is three wire types, so it is written here rather
// than vendored.

const utf8 = new TextDecoder();

class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  more() {
    return this.pos < this.bytes.length;
  }

  need(n) {
    if (this.pos + n > this.bytes.length) throw new Error('truncated vector tile');
  }

  // Exact up to 2^53; only feature ids are ever larger, and they are
  // skipped (cells are named by their `h3` property instead).
  varint() {
    let value = 0;
    let scale = 1;
    for (;;) {
      this.need(1);
      const b = this.bytes[this.pos];
      this.pos += 1;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
  }

  chunk() {
    const n = this.varint();
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(wire) {
    if (wire === 0) this.varint();
    else if (wire === 1) { this.need(8); this.pos += 8; }
    else if (wire === 2) this.chunk();
    else if (wire === 5) { this.need(4); this.pos += 4; }
    else throw new Error(`unknown wire type ${wire}`);
  }

  // Calls `on(field, wire)` for each field; `on` reads the value or returns
  // false to have it skipped.
  fields(on) {
    while (this.more()) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      const wire = key % 8;
      if (on(field, wire) === false) this.skip(wire);
    }
  }
}

function packed(bytes) {
  const r = new Reader(bytes);
  const out = [];
  while (r.more()) out.push(r.varint());
  return out;
}

const unzigzag = (n) => (n % 2 === 1 ? -(n + 1) / 2 : n / 2);

function value(bytes) {
  const r = new Reader(bytes);
  let v = null;
  r.fields((field) => {
    switch (field) {
      case 1: v = utf8.decode(r.chunk()); break;
      case 2: r.need(4); v = r.view.getFloat32(r.pos, true); r.pos += 4; break;
      case 3: r.need(8); v = r.view.getFloat64(r.pos, true); r.pos += 8; break;
      case 4: { const n = r.varint(); v = n >= 2 ** 63 ? n - 2 ** 64 : n; break; }
      case 5: v = r.varint(); break;
      case 6: v = unzigzag(r.varint()); break;
      case 7: v = r.varint() !== 0; break;
      default: return false;
    }
    return true;
  });
  return v;
}

/** Geometry commands to rings (or lines, or points) of [x, y] tile units. */
function geometry(commands) {
  const parts = [];
  let part = null;
  let x = 0;
  let y = 0;
  for (let i = 0; i < commands.length;) {
    const id = commands[i] & 0x7;
    const count = Math.floor(commands[i] / 8);
    i += 1;
    if (id === 7) {
      if (part && part.length) part.push([part[0][0], part[0][1]]);
      continue;
    }
    if (id !== 1 && id !== 2) throw new Error(`unknown geometry command ${id}`);
    for (let k = 0; k < count; k += 1) {
      if (i + 1 >= commands.length) throw new Error('truncated geometry');
      x += unzigzag(commands[i]);
      y += unzigzag(commands[i + 1]);
      i += 2;
      if (id === 1) {
        part = [];
        parts.push(part);
      }
      part.push([x, y]);
    }
  }
  return parts;
}

const TYPES = ['Unknown', 'Point', 'LineString', 'Polygon'];

function layer(bytes) {
  const r = new Reader(bytes);
  const out = { name: '', version: 1, extent: 4096, features: [] };
  const keys = [];
  const values = [];
  const raw = [];
  r.fields((field) => {
    switch (field) {
      case 1: out.name = utf8.decode(r.chunk()); break;
      case 2: raw.push(r.chunk()); break;
      case 3: keys.push(utf8.decode(r.chunk())); break;
      case 4: values.push(value(r.chunk())); break;
      case 5: out.extent = r.varint(); break;
      case 15: out.version = r.varint(); break;
      default: return false;
    }
    return true;
  });
  for (const bytes of raw) {
    const f = new Reader(bytes);
    const feature = { type: 'Unknown', properties: {}, geometry: [] };
    f.fields((field) => {
      switch (field) {
        case 2: {
          const tags = packed(f.chunk());
          for (let i = 0; i + 1 < tags.length; i += 2) feature.properties[keys[tags[i]]] = values[tags[i + 1]];
          break;
        }
        case 3: feature.type = TYPES[f.varint()] || 'Unknown'; break;
        case 4: feature.geometry = geometry(packed(f.chunk())); break;
        default: return false;
      }
      return true;
    });
    out.features.push(feature);
  }
  return out;
}

/**
 * A tile's layers by name: `{ name, version, extent, features: [{ type,
 * properties, geometry }] }`, geometry as arrays of [x, y] in tile units
 * (y down), polygon rings closed.
 */
export function decodeTile(buffer) {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  const r = new Reader(bytes);
  const layers = {};
  r.fields((field) => {
    if (field !== 3) return false;
    const l = layer(r.chunk());
    layers[l.name] = l;
    return true;
  });
  return layers;
}
