// The multilateral trading facilities ACME routes equity orders to: one
// order-entry session per venue and environment, from one library.
local fix = import 'fix-session.libsonnet';

local venues = [
  { name: 'turquoise', uat: 'uat-fix.turquoise.example.net', prod: 'fix.turquoise.example.net', port: 10443, uatNet: '198.51.100.16/28', prodNet: '203.0.113.16/28' },
  { name: 'cboe-eu', uat: 'cert.cboe-eu.example.net', prod: 'fix.cboe-eu.example.net', port: 10500, uatNet: '198.51.100.32/28', prodNet: '203.0.113.32/28', target: 'CBOEEU' },
  { name: 'aquis', uat: 'uat.aquis.example.net', prod: 'fix.aquis.example.net', port: 9100, uatNet: '198.51.100.48/28', prodNet: '203.0.113.48/28' },
];

[
  fix.initiator(v.name, env, v[env], v.port, [if env == 'prod' then v.prodNet else v.uatNet],
                targetCompID=if std.objectHas(v, 'target') then v.target else std.asciiUpper(v.name))
  for v in venues
  for env in ['uat', 'prod']
]
