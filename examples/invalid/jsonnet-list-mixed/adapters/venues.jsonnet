// One order-entry session per venue; the second element was meant to be a call.
local initiator(venue, port) = {
  apiVersion: 'cairn.dev/v1alpha1',
  kind: 'Adapter',
  metadata: { name: venue + '-fix-orders', environment: 'prod' },
  spec: {
    protocol: 'fix',
    role: 'initiator',
    fix: { version: 'FIX.4.4', senderCompID: 'ACME', targetCompID: std.asciiUpper(venue) },
    connect: { host: 'fix.' + venue + '.example.net', port: port, tls: true },
  },
};
[
  initiator('lse', 9876),
  'aquis',
]
