// The Leaflet map every page starts from. Without a configured basemap the
// districts are the base, so the map is still readable (and the tests, which
// run with no tile server, see what a user would).
import * as L from '/vendor/leaflet/leaflet-src.esm.js';
import { t } from './i18n.js';
import { listAll } from './api.js';

export { L };

/**
 * Tooltip or popup content that is text, never markup: Leaflet reads a
 * string as HTML, so text from data (a place's name, a measure's title)
 * goes in as an element holding it. A function, so each opening gets an
 * element of its own.
 */
export function textTip(text) {
  return () => textEl(text);
}

/** An element holding text, for Leaflet options that take markup (`divIcon`'s `html`). */
export function textEl(text) {
  const span = document.createElement('span');
  span.textContent = text == null ? '' : String(text);
  return span;
}

export async function loadConfig() {
  try {
    const res = await fetch('/config.json');
    if (res.ok) return await res.json();
  } catch { /* offline and not cached: fall back to defaults */ }
  return {};
}

export function createMap(el, config, options = {}) {
  // Leaflet animates with its own transitions; honour the visitor's wish
  // for less motion.
  const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  const map = L.map(el, {
    zoomAnimation: !still,
    fadeAnimation: !still,
    markerZoomAnimation: !still,
    center: config.center || [58.4108, 15.6214],
    zoom: config.zoom || 12,
    minZoom: 8,
    maxZoom: 18,
    zoomControl: false,
    ...options,
  });
  L.control.zoom({
    position: 'topleft',
    zoomInTitle: t('map.zoomIn'),
    zoomOutTitle: t('map.zoomOut'),
  }).addTo(map);
  L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
  map.attributionControl.setPrefix('Leaflet');
  // Leaflet names its popup close button in English only.
  map.on('popupopen', (e) => {
    const close = e.popup.getElement()?.querySelector('.leaflet-popup-close-button');
    if (close) close.setAttribute('aria-label', t('map.closePopup'));
  });
  // The zoom a view settled at, for whoever needs to know the view is done
  // (the browser tests wait for it instead of waiting a while).
  const noteZoom = () => { el.dataset.zoom = String(map.getZoom()); };
  map.on('zoomend', noteZoom);
  noteZoom();
  // The container is a focusable application region; name it.
  el.setAttribute('aria-label', t('map.ariaLabel'));
  el.setAttribute('role', 'region');
  el.setAttribute('aria-roledescription', t('map.roleDescription'));
  if (config.tiles) {
    L.tileLayer(config.tiles, {
      maxZoom: config.tileMaxZoom || 19,
      attribution: config.tileAttribution || '',
    }).addTo(map);
  } else {
    el.classList.add('no-tiles');
  }
  return map;
}

/** Districts as a quiet, non-interactive base drawing. */
export async function addDistrictBase(map, config) {
  if (config.tiles) return null;
  const areas = await listAll('areas').catch(() => []);
  const layer = L.geoJSON({ type: 'FeatureCollection', features: areas }, {
    interactive: false,
    style: { color: '#6b7280', weight: 1, fillColor: '#f3f4f6', fillOpacity: 1 },
  });
  layer.addTo(map);
  layer.bringToBack();
  return { layer, areas };
}
