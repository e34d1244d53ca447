/* Regovar's GraphiQL set-up: same-origin fetcher, a default query, ?q= to prefill.
 * (Not ?query=: a GET /graphql?query=... runs the query and answers JSON, as GraphQL over HTTP
 * says, instead of serving this page.) */
(function () {
  'use strict';

  var DEFAULT_QUERY = [
    '# Regovar GraphQL API.',
    '# Ctrl-Enter or \u25B6 runs the query; the',
    '# book icon (left) documents the schema.',
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

  function fetcher(params) {
    return fetch('/graphql', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(params),
    }).then(function (response) {
      return response.text().then(function (text) {
        try {
          return JSON.parse(text);
        } catch (e) {
          return { errors: [{ message: 'HTTP ' + response.status + ': ' + text }] };
        }
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
