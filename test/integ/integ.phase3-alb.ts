/** integ-runner entry point: the demo at phase 3 in alb mode (test/integ/cases.ts). */
import { phase3Alb } from './cases';
import { integApp } from './integ-app';

phase3Alb(integApp());
