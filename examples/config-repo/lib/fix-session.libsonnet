// fix-session.libsonnet stamps out FIX initiator sessions that share ACME's
// conventions: CompIDs, heartbeat, the London trading-day schedule, TLS and
// a credentials Secret named after the adapter.
{
  // initiator returns one Adapter for a venue in an environment.
  initiator(venue, env, host, port, egress, targetCompID=std.asciiUpper(venue)):: {
    apiVersion: 'cairn.dev/v1alpha1',
    kind: 'Adapter',
    metadata: {
      name: '%s-fix-orders' % venue,
      environment: env,
      labels: { venue: venue, 'asset-class': 'equities' },
    },
    spec: {
      protocol: 'fix',
      role: 'initiator',
      description: 'Order entry session to %s (%s).' % [targetCompID, env],
      fix: {
        version: 'FIX.4.4',
        senderCompID: if env == 'prod' then 'ACME' else 'ACMEUAT',
        targetCompID: targetCompID,
        heartbeatSeconds: 30,
        resetOnLogon: true,
        schedule: {
          timezone: 'Europe/London',
          start: '06:30',
          end: '17:45',
          days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'],
        },
      },
      connect: { host: host, port: port, tls: true },
      egress: { cidrs: egress },
      credentials: {
        secretRef: { name: '%s-fix-%s-credentials' % [venue, env], keys: ['username', 'password'] },
      },
    },
  },
}
