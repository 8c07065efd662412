// The NoCloud seed files a host may ask for, and the field of its install each one is served from.
export const NOCLOUD_FILES = { 'user-data': 'UserData', 'meta-data': 'MetaData', 'vendor-data': 'VendorData', 'network-config': 'NetworkConfig' } as const;

export type NoCloudFile = (typeof NOCLOUD_FILES)[keyof typeof NOCLOUD_FILES];
