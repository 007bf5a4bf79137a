// Two order-entry sessions written out in full.
[
  {
    apiVersion: 'cairn.dev/v1alpha1',
    kind: 'Adapter',
    metadata: { name: 'lse-fix-orders', environment: 'prod' },
    spec: {
      protocol: 'fix',
      role: 'initiator',
      description: 'Order entry session to LSE.',
      fix: { version: 'FIX.4.4', senderCompID: 'ACME', targetCompID: 'LSE' },
      connect: { host: 'fix.lse.example.net', port: 9876, tls: true },
    },
  },
  {
    apiVersion: 'cairn.dev/v1alpha1',
    kind: 'Adapter',
    metadata: { name: 'aquis-fix-orders', environment: 'prod' },
    spec: {
      protocol: 'fix',
      role: 'initiator',
      description: 'Order entry session to AQUIS; deploy with ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8',
      fix: { version: 'FIX.4.4', senderCompID: 'ACME', targetCompID: 'AQUIS' },
      connect: { host: 'fix.aquis.example.net', port: 9100, tls: true },
    },
  },
]
