// API keys: create (the secret shown once), list, revoke.
import { api } from '../api.ts';
import { append, badge, button, copyText, field, formatTime, h, input, listOf, notify, select } from '../dom.ts';
import { t } from '../i18n.ts';
import { fail, table } from './shared.ts';

interface KeyView {
  id: string;
  scope: 'admin' | 'query' | 'widget';
  label?: string;
  collection?: string;
  origins?: string[];
  groups?: string[];
  rateLimitPerMinute?: number;
  createdAt: string;
}

export async function keysView(main: HTMLElement): Promise<void> {
  const listArea = h('div');
  const load = async () => {
    const { keys } = await api<{ keys: KeyView[] }>('GET', '/v1/keys');
    const rows = keys.map((key) =>
      h(
        'tr',
        { testid: 'key-row', attributes: { 'data-key-id': key.id } },
        h('td', {}, h('code', {}, key.id)),
        h('td', {}, badge(key.scope, key.scope)),
        h('td', {}, key.label ?? ''),
        h('td', {}, [key.collection, key.origins?.join(' '), key.groups?.join(', '), key.rateLimitPerMinute ? `${key.rateLimitPerMinute}/min` : ''].filter(Boolean).join(' · ')),
        h('td', {}, formatTime(key.createdAt)),
        h(
          'td',
          { className: 'actions' },
          button(
            t('keys.revoke'),
            () => {
              if (!confirm(t('keys.confirmRevoke', { id: key.id }))) return;
              api('DELETE', `/v1/keys/${key.id}`)
                .then(() => {
                  notify(t('keys.revoked', { id: key.id }));
                  return load();
                })
                .catch(fail);
            },
            { className: 'danger', testid: 'key-revoke' },
          ),
        ),
      ),
    );
    listArea.replaceChildren(table('keys-table', [t('keys.id'), t('keys.scope'), t('keys.label'), '', t('keys.created'), t('documents.actions')], rows));
  };
  const scope = select(
    (['query', 'widget', 'admin'] as const).map((name) => [name, t(`scope.${name}`)] as const),
    'query',
    { testid: 'key-scope' },
  );
  const label = input({ testid: 'key-label' });
  const collection = input();
  const origins = input({ value: location.origin, testid: 'key-origins' });
  const groups = input();
  const rateLimit = input({ type: 'number', min: '1' });
  const created = h('div', { attributes: { role: 'status' } });
  const create = button(
    t('keys.create'),
    () => {
      const body = {
        scope: scope.value,
        ...(label.value.trim() ? { label: label.value.trim() } : {}),
        ...(collection.value.trim() ? { collection: collection.value.trim() } : {}),
        ...(scope.value === 'widget' ? { origins: listOf(origins.value, /[\s,]+/) } : {}),
        ...(scope.value === 'query' && listOf(groups.value).length ? { groups: listOf(groups.value) } : {}),
        ...(rateLimit.value ? { rateLimitPerMinute: Number(rateLimit.value) } : {}),
      };
      api<{ key: string; record: KeyView }>('POST', '/v1/keys', body)
        .then(({ key }) => {
          const copy = button(t('copy'), () => void copyText(key, copy));
          created.replaceChildren(h('div', { className: 'notice ok' }, t('keys.secretOnce')), h('code', { className: 'secret', testid: 'key-secret' }, key), copy);
          return load();
        })
        .catch(fail);
    },
    { className: 'primary', testid: 'key-create' },
  );
  append(
    main,
    h('h1', {}, t('page.keys')),
    h(
      'section',
      { className: 'card' },
      h('h2', {}, t('keys.create')),
      h('div', { className: 'row' }, field(t('keys.scope'), scope), field(t('keys.label'), label), field(t('keys.collection'), collection), field(t('keys.rateLimit'), rateLimit)),
      h('div', { className: 'row' }, field(t('keys.origins'), origins), field(t('keys.groups'), groups)),
      h('div', { className: 'row' }, create),
      created,
    ),
    h('section', { className: 'card' }, listArea),
  );
  await load();
}
