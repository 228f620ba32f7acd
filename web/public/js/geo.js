// Small geometry helpers for GeoJSON in lon/lat; enough for client-side
// district filtering, so the browser needs no GIS library.

/** A point that stands for a geometry: the point itself, the middle vertex
 * of a line, the vertex average of a polygon's outer ring. */
export function representativePoint(geometry) {
  if (!geometry) return null;
  const c = geometry.coordinates;
  switch (geometry.type) {
    case 'Point': return c;
    case 'MultiPoint': return c[0];
    case 'LineString': return c[Math.floor(c.length / 2)];
    case 'MultiLineString': return c[0][Math.floor(c[0].length / 2)];
    case 'Polygon': return average(c[0]);
    case 'MultiPolygon': return average(c[0][0]);
    default: return null;
  }
}

function average(ring) {
  const pts = ring.length > 1 ? ring.slice(0, -1) : ring;
  const sum = pts.reduce((acc, p) => [acc[0] + p[0], acc[1] + p[1]], [0, 0]);
  return [sum[0] / pts.length, sum[1] / pts.length];
}

function inRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inPolygonCoords(p, rings) {
  if (!inRing(p, rings[0])) return false;
  return !rings.slice(1).some((hole) => inRing(p, hole));
}

export function pointInGeometry(p, geometry) {
  if (!p || !geometry) return false;
  if (geometry.type === 'Polygon') return inPolygonCoords(p, geometry.coordinates);
  if (geometry.type === 'MultiPolygon') return geometry.coordinates.some((poly) => inPolygonCoords(p, poly));
  return false;
}

/** [minLon, minLat, maxLon, maxLat] of any geometry. */
export function bboxOf(geometry) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
      b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    } else c.forEach(walk);
  };
  walk(geometry.coordinates);
  return b;
}

/** A random id for offline records; randomUUID needs a secure context, so
 * a plain-HTTP intranet falls back to the same 122 random bits by hand. */
export function newClientId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
