// The entry script every machine gets first (over TFTP or HTTP): it chains to the machine's own script by MAC.

export function entryScript(publicURL: string): string {
  const base = publicURL.replace(/\/+$/, '');
  return [
    '#!ipxe',
    '# anvil: chain to this machine\'s own script',
    `chain --autofree ${base}/ipxe/\${net0/mac:hexhyp}?arch=\${buildarch}&platform=\${platform}&uuid=\${uuid} || goto failed`,
    'exit',
    ':failed',
    'echo anvil: the boot-server did not answer; booting from local disk',
    'exit',
    '',
  ].join('\n');
}

/** What an unknown machine is told: boot from its disk (default) or wait in the iPXE shell for a human. */
export function unknownMachineScript(mac: string, answer: 'exit' | 'shell'): string {
  return [
    '#!ipxe',
    `echo anvil: no BareMetalHost has boot MAC ${mac}; it was recorded as discovered`,
    answer === 'shell' ? 'shell' : 'exit',
    '',
  ].join('\n');
}
