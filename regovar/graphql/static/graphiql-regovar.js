/* Regovar's GraphiQL set-up: same-origin fetcher, a default query, ?q= to prefill.
 * Sign-in: the token answered by a signIn mutation is kept in this tab's sessionStorage (gone
 * when the tab closes) and sent as `Authorization: Bearer`; signOut forgets it. A header set
 * in GraphiQL's Headers pane wins.
 * (Not ?query=: a GET /graphql?query=... runs the query and answers JSON, as GraphQL over HTTP
 * says, instead of serving this page.) */
(function () {
  'use strict';

  var DEFAULT_QUERY = [
    '# Regovar GraphQL API.',
    '# Ctrl-Enter or \u25B6 runs the query; the',
    '# book icon (left) documents the schema.',
    '#',
    '# Sign in first (this tab keeps the token):',
    '# mutation { signIn(login: "me", password: "...")',
    '#            { token expiresAt } }',
    '{',
    '  projects {',
    '    total',
    '    items {',
    '      id',
    '      name',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');

  var TOKEN_KEY = 'regovar-token';

  function headersFor(opts) {
    var headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    var extra = (opts && opts.headers) || {};
    var explicit = false;
    Object.keys(extra).forEach(function (name) {
      headers[name] = extra[name];
      if (name.toLowerCase() === 'authorization') explicit = true;
    });
    var token = window.sessionStorage.getItem(TOKEN_KEY);
    if (token && !explicit) headers.Authorization = 'Bearer ' + token;
    return headers;
  }

  function remember(body) {
    var data = body && body.data;
    if (!data) return;
    if (data.signIn && data.signIn.token) window.sessionStorage.setItem(TOKEN_KEY, data.signIn.token);
    if (data.signOut === true) window.sessionStorage.removeItem(TOKEN_KEY);
  }

  function fetcher(params, opts) {
    return fetch('/graphql', {
      method: 'POST',
      credentials: 'same-origin',
      headers: headersFor(opts),
      body: JSON.stringify(params),
    }).then(function (response) {
      return response.text().then(function (text) {
        var body;
        try {
          body = JSON.parse(text);
        } catch (e) {
          return { errors: [{ message: 'HTTP ' + response.status + ': ' + text }] };
        }
        remember(body);
        return body;
      });
    });
  }

  var search = new URLSearchParams(window.location.search);
  var props = { fetcher: fetcher, defaultQuery: DEFAULT_QUERY };
  // A shared link (/graphql?q=...&variables=...) opens on that query, not on the saved tabs.
  if (search.has('q')) props.query = search.get('q');
  if (search.has('variables')) props.variables = search.get('variables');

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, props));
})();
