// The entry script every machine gets first (over TFTP or HTTP): it chains to the machine's own script by MAC.

/**
 * The machine's facts as iPXE knows them (its build and firmware, and SMBIOS), URI-encoded: the boot-server records
 * them for machines nobody declared (docs/dhcp.md, "Discovery").
 */
const FACTS_QUERY = [
  'arch=${buildarch}',
  'platform=${platform}',
  'uuid=${uuid}',
  'manufacturer=${manufacturer:uristring}',
  'product=${product:uristring}',
  'serial=${serial:uristring}',
  'asset=${asset:uristring}',
].join('&');

export function entryScript(publicURL: string): string {
  const base = publicURL.replace(/\/+$/, '');
  return [
    '#!ipxe',
    '# anvil: chain to this machine\'s own script',
    `chain --autofree ${base}/ipxe/\${net0/mac:hexhyp}?${FACTS_QUERY} || goto failed`,
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
