export { LAYOUTS, UnknownNameError, layout_entry, parse_layout_list, type LayoutEntry } from './layouts.js';
export { MAPCOUNT_POLICIES, PAGEWAIT_POLICIES, FS_BACKENDS, registry_entry, registry_of, type RegistryEntry, type RegistryOptions, type ChoiceKind } from './registry.js';
export { createMachine, MachineError, flatten, type Machine, type MachineSpec, type CompositionNames, type ComposeResult, type Choice } from './machine.js';
export { memmap_wait_host, type MemmapWaitHost } from './wait-host.js';
export { register_external, is_external_spec, policy_check, REQUIRED_METHODS } from './external.js';
