/** integ-runner entry point: the demo at phase 1 (test/integ/cases.ts). */
import { phase1 } from './cases';
import { integApp } from './integ-app';

phase1(integApp());
