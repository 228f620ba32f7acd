// The accessibility statement (tillgänglighetsredogörelse) that DOS-lagen
// asks every public-sector site to publish; its text lives in the i18n files.
import { startPage, markReady } from './shell.js';
import { t, currentLang } from './i18n.js';
import { loadConfig } from './mapbase.js';

async function main() {
  await startPage({ needsLogin: false });
  document.title = t('statement.pageTitle');
  const other = document.getElementById('other-language');
  const otherLang = currentLang() === 'en' ? 'sv' : 'en';
  other.href = otherLang === 'en' ? '/accessibility' : '/tillganglighet';
  other.lang = otherLang;
  other.hreflang = otherLang;
  const config = await loadConfig();
  const contact = document.getElementById('contact');
  if (config.contactEmail) {
    contact.append(t('statement.contact'), ' ');
    const a = document.createElement('a');
    a.href = `mailto:${config.contactEmail}`;
    a.textContent = config.contactEmail;
    contact.append(a, '.');
  } else {
    // The operator fills this in; saying so beats inventing an address.
    contact.textContent = t('statement.contactMissing');
  }
  markReady();
}

main().catch(() => markReady());
