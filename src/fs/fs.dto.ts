import { ApiProperty } from '@nestjs/swagger';

export class DirEntryView {
  @ApiProperty({ example: 'meminfo' }) name!: string;
  @ApiProperty({ enum: ['file', 'dir', 'link'], example: 'file' }) type!: string;
  @ApiProperty({ example: '-r--r--r--' }) mode!: string;
  @ApiProperty({ example: 0, description: 'pseudo files report 0, like the kernel' }) size!: number;
}
