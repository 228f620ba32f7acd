// A hexagon layer drawn from vector tiles (/tiles/{kind}/{z}/{x}/{y}.mvt)
// on canvases: what the planner map shows at fine zooms, where a GeoJSON
// layer would carry too many hexagons. It keeps what each tile holds so
// the page can colour, count, list and click the hexagons in view.
import { L } from './mapbase.js';
import { decodeTile } from './mvt.js';

/** A position in tile units of tile (z, x, y) as [lon, lat]. */
function lonLat(z, x, y, extent, px, py) {
  const n = 2 ** z;
  const lon = ((x + px / extent) / n) * 360 - 180;
  const my = (y + py / extent) / n;
  const lat = (Math.atan(Math.sinh(Math.PI * (1 - 2 * my))) * 180) / Math.PI;
  return [lon, lat];
}

function inRing(x, y, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** A problem+json detail, or the status, for a refused tile. */
async function failure(res) {
  const body = await res.json().catch(() => ({}));
  const err = new Error(body.detail || `HTTP ${res.status}`);
  err.status = res.status;
  return err;
}

export const HexTiles = L.GridLayer.extend({
  options: {
    kind: 'incidents',
    // The query string every tile is asked with (filters, time window).
    query: '',
    // The fill colour of a hexagon ({ h3, count, minutes }), or null to
    // leave it out until the page knows its colours.
    fill: () => null,
    fillOpacity: 0.72,
    stroke: '#1f2937',
    weight: 0.6,
  },

  initialize(options) {
    L.GridLayer.prototype.initialize.call(this, options);
    // Per tile element: its coordinates, hexagons, and the request.
    this._held = new Map();
    this.on('tileunload', (e) => {
      const held = this._held.get(e.tile);
      if (held) held.abort.abort();
      this._held.delete(e.tile);
    });
  },

  /** Asks every tile anew when the kind or query changed; says whether. */
  setQuery(kind, query) {
    if (kind === this.options.kind && query === this.options.query) return false;
    this.options.kind = kind;
    this.options.query = query;
    this.redraw();
    return true;
  },

  createTile(coords, done) {
    const canvas = L.DomUtil.create('canvas', 'hex-tile');
    const size = this.getTileSize();
    // Sharp edges on high-density screens.
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(size.x * ratio);
    canvas.height = Math.round(size.y * ratio);
    const held = { z: coords.z, x: coords.x, y: coords.y, extent: 4096, cells: [], abort: new AbortController() };
    this._held.set(canvas, held);
    const { kind, query } = this.options;
    const url = `/tiles/${encodeURIComponent(kind)}/${coords.z}/${coords.x}/${coords.y}.mvt${query ? `?${query}` : ''}`;
    fetch(url, { signal: held.abort.signal, headers: { Accept: 'application/vnd.mapbox-vector-tile' } })
      .then(async (res) => {
        if (res.status === 204) return;
        if (!res.ok) throw await failure(res);
        const layer = decodeTile(await res.arrayBuffer())[kind];
        if (!layer) return;
        held.extent = layer.extent;
        held.cells = layer.features
          .filter((f) => f.type === 'Polygon' && f.geometry.length && typeof f.properties.h3 === 'string')
          .map((f) => ({ h3: f.properties.h3, count: f.properties.count, minutes: f.properties.minutes, ring: f.geometry[0] }));
      })
      .then(() => {
        this._paint(canvas, held);
        done(null, canvas);
      })
      .catch((err) => {
        if (err.name === 'AbortError') return;
        held.error = err;
        done(err, canvas);
      });
    return canvas;
  },

  _paint(canvas, held) {
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const scale = canvas.width / held.extent;
    const ratio = canvas.width / this.getTileSize().x;
    ctx.lineWidth = this.options.weight * ratio;
    ctx.strokeStyle = this.options.stroke;
    ctx.lineJoin = 'round';
    for (const cell of held.cells) {
      const colour = this.options.fill(cell);
      if (!colour) continue;
      ctx.beginPath();
      cell.ring.forEach(([x, y], i) => (i ? ctx.lineTo(x * scale, y * scale) : ctx.moveTo(x * scale, y * scale)));
      ctx.closePath();
      ctx.globalAlpha = this.options.fillOpacity;
      ctx.fillStyle = colour;
      ctx.fill();
      ctx.globalAlpha = 1;
      ctx.stroke();
    }
  },

  /** Paints every tile again, after the colours changed. */
  repaint() {
    for (const [canvas, held] of this._held) this._paint(canvas, held);
  },

  /** The tiles the map's view covers at the tile zoom, as a range. */
  _viewRange() {
    const map = this._map;
    const z = Math.round(map.getZoom());
    const size = this.getTileSize();
    const centre = map.project(map.getCenter(), z).floor();
    const half = map.getSize().divideBy(2 * map.getZoomScale(map.getZoom(), z));
    const min = centre.subtract(half).unscaleBy(size).floor();
    const max = centre.add(half).unscaleBy(size).ceil().subtract([1, 1]);
    const n = 2 ** z;
    return { z, minX: Math.max(min.x, 0), minY: Math.max(min.y, 0), maxX: Math.min(max.x, n - 1), maxY: Math.min(max.y, n - 1) };
  },

  /**
   * The hexagons of the tiles in view, once each, as GeoJSON Features
   * (`h3`, `count`, for presence `visits` and `minutes`); the bbox those
   * tiles cover, which asks the hexagon API the same question; the first
   * tile error, if any.
   */
  inView() {
    const r = this._viewRange();
    const seen = new Map();
    let error = null;
    for (const held of this._held.values()) {
      if (held.z !== r.z || held.x < r.minX || held.x > r.maxX || held.y < r.minY || held.y > r.maxY) continue;
      if (held.error && !error) error = held.error;
      for (const cell of held.cells) {
        if (!seen.has(cell.h3)) seen.set(cell.h3, this._feature(held, cell));
      }
    }
    const [west, north] = lonLat(r.z, r.minX, r.minY, 1, 0, 0);
    const [east, south] = lonLat(r.z, r.maxX + 1, r.maxY + 1, 1, 0, 0);
    return { features: [...seen.values()], bbox: [west, south, east, north], error };
  },

  _feature(held, cell) {
    const properties = { h3: cell.h3, count: cell.count };
    if (cell.minutes != null) {
      properties.visits = cell.count;
      properties.minutes = cell.minutes;
    }
    // RFC 7946 wants the exterior ring counter-clockwise in lon/lat; the
    // tile's is clockwise with y down, which turns into exactly that.
    const ring = cell.ring.map(([x, y]) => lonLat(held.z, held.x, held.y, held.extent, x, y).map((v) => Number(v.toFixed(7))));
    return { type: 'Feature', id: cell.h3, properties, geometry: { type: 'Polygon', coordinates: [ring] } };
  },

  /** The hexagon under a position, as a Feature, or null. */
  cellAt(latlng) {
    const z = Math.round(this._map.getZoom());
    const size = this.getTileSize();
    const p = this._map.project(latlng, z);
    const x = Math.floor(p.x / size.x);
    const y = Math.floor(p.y / size.y);
    for (const held of this._held.values()) {
      if (held.z !== z || held.x !== x || held.y !== y) continue;
      const px = ((p.x - x * size.x) / size.x) * held.extent;
      const py = ((p.y - y * size.y) / size.y) * held.extent;
      const cell = held.cells.find((c) => inRing(px, py, c.ring));
      return cell ? this._feature(held, cell) : null;
    }
    return null;
  },
});
